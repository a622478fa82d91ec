#!/usr/bin/env bash
# Renders the app's icons from the SVGs in icons/src (drawn for Paddock): the app icon at every
# size the bundles need (PNG, .icns for macOS, .ico for Windows, Android and iOS sets, through
# `tauri icon`), and the tray glyphs, light and dark, idle and waiting, at 1x and 2x.
# Needs ImageMagick (`convert`) and the Tauri CLI (`npm ci` in src-tauri). The outputs are
# committed; run this again after changing an SVG.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
convert -background none -density 96 src/app.svg -resize 1024x1024 "$tmp/app.png"
(cd .. && npx --no-install tauri icon "$tmp/app.png" --output icons >/dev/null)
mkdir -p tray
for svg in src/tray-*.svg; do
  name=$(basename "$svg" .svg)
  convert -background none -density 192 "$svg" -resize 32x32 "tray/$name.png"
  convert -background none -density 384 "$svg" -resize 64x64 "tray/$name@2x.png"
done
echo "icons written in $(pwd)"
