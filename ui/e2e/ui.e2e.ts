/**
 * The UI against a real `paddock up` and real shell sessions, in Debian's Chromium, at desktop
 * size and on a 390×844 touch phone. Screenshots go to docs/screenshots/.
 *
 * One spec file on one host: the areas in e2e/ui/ share its `paddock up`, its two shell sessions
 * and the devices paired by earlier tests (e2e/ui/shared.ts), so they run in the order imported
 * here.
 */
import { sharedHost } from "./ui/shared";
import "./ui/desktop";
import "./ui/access";
import "./ui/start";
import "./ui/phone";
import "./ui/controls";
import "./ui/permission";
import "./ui/conversation";

sharedHost();
