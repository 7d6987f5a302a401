#!/bin/sh
# Install Event Console for the current user (no root): run it from the unpacked archive.
#
#   ./install.sh               install or upgrade into ~/.local
#   ./install.sh --uninstall   remove what install.sh put there (your settings, history and
#                              keyring entries are kept)
#
# PREFIX (default ~/.local) moves everything; XDG_DATA_HOME, when set, is where the desktop
# entry, icons and metainfo go (default $PREFIX/share).
#   $PREFIX/lib/event-console/        the app folder
#   $PREFIX/bin/event-console         a symlink to it (the command line)
#   $DATA/applications/dev.eventconsole.EventConsole.desktop
#   $DATA/icons/hicolor/<size>/apps/event-console.{png,svg}
#   $DATA/metainfo/dev.eventconsole.EventConsole.metainfo.xml
set -eu

APP_ID=dev.eventconsole.EventConsole
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${PREFIX:-$HOME/.local}
DATA=${XDG_DATA_HOME:-$PREFIX/share}
APP_DIR=$PREFIX/lib/event-console
BIN=$PREFIX/bin/event-console

refresh_caches() {
  if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$DATA/applications" 2>/dev/null || true
  fi
  # Refresh an icon cache only where one exists: a stale user-level cache hides icons.
  if command -v gtk-update-icon-cache >/dev/null 2>&1 \
      && [ -f "$DATA/icons/hicolor/icon-theme.cache" ]; then
    gtk-update-icon-cache -q -t -f "$DATA/icons/hicolor" 2>/dev/null || true
  fi
  touch "$DATA/icons/hicolor" 2>/dev/null || true
}

remove_app_dir() {
  # Only ever delete a folder that is an Event Console install.
  if [ -e "$APP_DIR" ]; then
    if [ ! -x "$APP_DIR/event-console" ]; then
      echo "install.sh: $APP_DIR exists and is not an Event Console install; not touching it" >&2
      exit 1
    fi
    rm -rf "$APP_DIR"
  fi
}

if [ "${1:-}" = "--uninstall" ]; then
  remove_app_dir
  if [ -L "$BIN" ]; then rm -f "$BIN"; fi
  rm -f "$DATA/applications/$APP_ID.desktop" "$DATA/metainfo/$APP_ID.metainfo.xml"
  find "$DATA/icons/hicolor" -path '*/apps/event-console.*' -exec rm -f {} + 2>/dev/null || true
  refresh_caches
  echo "Event Console removed (settings and history are still in your config and data folders)."
  exit 0
elif [ $# -gt 0 ]; then
  echo "usage: $0 [--uninstall]" >&2
  exit 2
fi

if [ ! -x "$HERE/event-console/event-console" ]; then
  echo "install.sh: run me from the unpacked archive (no event-console/ next to me)" >&2
  exit 1
fi

# before anything is copied: a refusal must leave nothing behind
if [ -e "$BIN" ] && [ ! -L "$BIN" ]; then
  echo "install.sh: $BIN exists and is not a symlink; not replacing it" >&2
  exit 1
fi
remove_app_dir
mkdir -p "$PREFIX/lib" "$PREFIX/bin" "$DATA/applications" "$DATA/metainfo" "$DATA/icons"
cp -R "$HERE/event-console" "$APP_DIR"
ln -sfn "$APP_DIR/event-console" "$BIN"

# The desktop entry runs the installed program by its full path: ~/.local/bin is not on every
# desktop session's PATH. Exec= splits on spaces, so the path is quoted as the Desktop Entry
# spec says: in double quotes, with " ` $ \ escaped by a backslash, then every backslash
# doubled (the file's string escapes come first) and % written %%. TryExec= is a plain
# string: only its backslashes are doubled. awk takes the values from its environment (a sed
# replacement would read & and | in the path as its own syntax).
program="$APP_DIR/event-console"
EXEC_PATH=$(printf '%s' "$program" | sed -e 's/[\\"`$]/\\&/g' -e 's/\\/\\\\/g' -e 's/%/%%/g') \
TRY_PATH=$(printf '%s' "$program" | sed -e 's/\\/\\\\/g') \
  awk '/^Exec=event-console/ { sub(/^Exec=event-console/, ""); print "Exec=\"" ENVIRON["EXEC_PATH"] "\"" $0; next }
       /^TryExec=event-console$/ { print "TryExec=" ENVIRON["TRY_PATH"]; next }
       { print }' \
  "$HERE/share/applications/$APP_ID.desktop" > "$DATA/applications/$APP_ID.desktop"
cp "$HERE/share/metainfo/$APP_ID.metainfo.xml" "$DATA/metainfo/"
cp -R "$HERE/share/icons/hicolor" "$DATA/icons/"
refresh_caches

echo "Event Console installed: $APP_DIR"
case ":$PATH:" in
  *":$PREFIX/bin:"*) echo "Run it from your applications menu, or type: event-console" ;;
  *) echo "Run it from your applications menu, or: $BIN ($PREFIX/bin is not on your PATH)" ;;
esac
