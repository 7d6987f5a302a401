#!/bin/sh
# Install Event Console for the current user (no root): run it from the unpacked archive.
#
#   ./install.sh               install or upgrade into ~/.local
#   ./install.sh --uninstall   remove what install.sh put there (your settings, history and
#                              keyring entries are kept)
#
# PREFIX (default ~/.local) moves everything; XDG_DATA_HOME, when set, is where the desktop
# entry, icons and metainfo go (default $PREFIX/share). Relative ones are taken from here.
#   $PREFIX/lib/event-console.d/<stamp>/  each installed version of the app folder
#   $PREFIX/lib/event-console             a symlink to the current one
#   $PREFIX/bin/event-console             a symlink to the program in it (the command line)
#   $DATA/applications/dev.eventconsole.EventConsole.desktop
#   $DATA/icons/hicolor/<size>/apps/event-console.{png,svg}
#   $DATA/metainfo/dev.eventconsole.EventConsole.metainfo.xml
#
# Why a folder per version: a running app reads its own files by path as it goes (lazy
# imports), so an upgrade copied over a running one broke it mid-send, and its window could
# no longer close. A new version goes into a new folder and the link is switched at once; an
# older version is removed once no process runs from it.
set -eu

APP_ID=dev.eventconsole.EventConsole
HERE=$(cd "$(dirname "$0")" && pwd)
absolute() { case $1 in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$(pwd)" "$1" ;; esac; }
# the real path when there is one: a PREFIX spelled another way (a trailing /, through a
# symlink) is the same install, not "another install of event-console"
real() { if [ -d "$1" ]; then (cd "$1" && pwd -P); else printf '%s' "$1"; fi; }
PREFIX=$(real "$(absolute "${PREFIX:-$HOME/.local}")")
DATA=$(absolute "${XDG_DATA_HOME:-$PREFIX/share}")
APP_DIR=$PREFIX/lib/event-console
VERSIONS=$PREFIX/lib/event-console.d
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

check_app_dir() {
  # Only ever delete a folder that is an Event Console install (or the link to one).
  if [ -e "$APP_DIR" ] && [ ! -L "$APP_DIR" ] && [ ! -x "$APP_DIR/event-console" ]; then
    echo "install.sh: $APP_DIR exists and is not an Event Console install; not touching it" >&2
    exit 1
  fi
}

in_use() {
  # Whether a running process's program is in folder $1 (Linux: /proc/<pid>/exe, which
  # names it with every link resolved).
  real=$(cd "$1" && pwd -P)
  for exe in /proc/[0-9]*/exe; do
    case $(readlink "$exe" 2>/dev/null || true) in "$real"/*) return 0 ;; esac
  done
  return 1
}

prune_versions() {
  # Every version but $1 (none: all) that no process runs from.
  [ -d "$VERSIONS" ] || return 0
  for dir in "$VERSIONS"/*; do
    [ -d "$dir" ] || continue
    [ "$dir" = "${1:-}" ] && continue
    [ -x "$dir/event-console" ] || case $dir in *.partial) ;; *) continue ;; esac
    in_use "$dir" || rm -rf "$dir"
  done
  rmdir "$VERSIONS" 2>/dev/null || true
}

ours() {
  # Whether $BIN is the link this script makes (pipx or another tool may own the name):
  # to $APP_DIR/event-console, however that path was spelled when it was made.
  [ -L "$BIN" ] || return 1
  target=$(readlink "$BIN")
  [ "$target" = "$APP_DIR/event-console" ] && return 0
  case $target in */lib/event-console/event-console) ;; *) return 1 ;; esac
  [ "$(real "$(dirname "$(dirname "$target")")")" = "$(real "$PREFIX/lib")" ]
}

lock() {
  # One install at a time: a second one pruned the first one's folder while it was being
  # copied, and left a link to half an app.
  if command -v flock >/dev/null 2>&1 && [ -d "$PREFIX/lib" ]; then
    exec 9>"$PREFIX/lib/.event-console.lock"
    flock 9
  fi
}

if [ "${1:-}" = "--uninstall" ]; then
  check_app_dir
  lock
  if ours; then rm -f "$BIN"; fi  # before the folder: a link that resolves is told as ours
  rm -rf "$APP_DIR"  # the link, or an install made before versions had folders
  [ -d "$VERSIONS" ] && rm -rf "$VERSIONS"  # a running one keeps its open files till it ends
  rm -f "$PREFIX/lib/.event-console.lock"
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
if [ -L "$BIN" ] && ! ours; then
  echo "install.sh: $BIN is a link to $(readlink "$BIN") (another install of event-console);" \
    "not replacing it: remove it first" >&2
  exit 1
fi
check_app_dir
if [ -d "$APP_DIR" ] && [ ! -L "$APP_DIR" ] && in_use "$APP_DIR"; then
  # an install made before versions had folders, running: its files cannot be kept
  echo "install.sh: Event Console is running from $APP_DIR; close it, then install again" >&2
  exit 1
fi
mkdir -p "$PREFIX/lib"
lock
mkdir -p "$VERSIONS" "$PREFIX/bin" "$DATA/applications" "$DATA/metainfo" "$DATA/icons"
version=$VERSIONS/$(date +%Y%m%d-%H%M%S)-$$
cp -R "$HERE/event-console" "$version.partial"
mv "$version.partial" "$version"
if [ -d "$APP_DIR" ] && [ ! -L "$APP_DIR" ]; then
  rm -rf "$APP_DIR"  # an install made before versions had folders
fi
ln -sfn "event-console.d/$(basename "$version")" "$APP_DIR.new"
mv -fT "$APP_DIR.new" "$APP_DIR"  # the switch: one rename, never a moment without an app
ln -sfn "$APP_DIR/event-console" "$BIN"
prune_versions "$version"

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
