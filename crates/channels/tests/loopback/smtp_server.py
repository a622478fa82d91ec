"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the email channel's tests.

Usage: smtp_server.py MODE CERT KEY USER PASSWORD, MODE being `starttls` (STARTTLS required
before anything else, then AUTH) or `tls` (TLS from the first byte, then AUTH). Prints
{"port": N} once listening, then one JSON line per message accepted.
"""
import asyncio
import json
import logging
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

mode, cert, key, user, password = sys.argv[1:6]
# In `tls` mode the connection is TLS before AUTH, which aiosmtpd cannot see: its warning
# about AUTH without STARTTLS does not apply.
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
logging.getLogger("mail.log").setLevel(logging.ERROR)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
            "authenticated": bool(session.authenticated),
        }), flush=True)
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login == user.encode() and auth_data.password == password.encode())
    return AuthResult(success=ok, handled=False)


async def main():
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    loop = asyncio.get_running_loop()
    if mode == "starttls":
        factory = lambda: SMTP(Handler(), hostname="localhost", tls_context=context,
                               require_starttls=True, auth_required=True,
                               auth_require_tls=True, authenticator=authenticator)
        server = await loop.create_server(factory, "127.0.0.1", 0)
    else:
        factory = lambda: SMTP(Handler(), hostname="localhost", auth_required=True,
                               auth_require_tls=False, authenticator=authenticator)
        server = await loop.create_server(factory, "127.0.0.1", 0, ssl=context)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    await server.serve_forever()


asyncio.run(main())
