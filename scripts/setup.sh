#!/usr/bin/env bash
# Installs livematte into .venv: the system libraries the Qt window needs, and Xvfb for its real-window test
# (Debian/Ubuntu, as root or with password-less sudo; skipped elsewhere), then torch's CPU build first (a bare
# torch requirement would pull several GB of CUDA packages), then livematte with its test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
QT_LIBS="libgl1 libegl1 libglib2.0-0 libfontconfig1 libfreetype6 libx11-6 libxext6 libxkbcommon0 libdbus-1-3"
# Qt's X11 plugin (the window on a desktop) and Xvfb (the real-window test runs it on a virtual screen).
QT_LIBS="$QT_LIBS libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0"
QT_LIBS="$QT_LIBS libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 xvfb"
if command -v apt-get >/dev/null && command -v dpkg >/dev/null; then
  missing=$(for p in $QT_LIBS; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done | xargs)
  if [ -n "$missing" ]; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo -n"
    if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends $missing; }; then
      echo "setup: could not install $missing (needed by the control window); install them with apt" >&2
    fi
  fi
fi
python3 -m venv .venv
. .venv/bin/activate
pip install -q torch==2.13.0
pip install -q -e ".[dev]"
