#!/bin/sh
# Install or remove jackrec's systemd units: `make install-service` and
# `make uninstall-service` run this (docs/service.md).
#
#   install-service.sh install|uninstall
#
# Environment:
#   JACKREC   the jackrec executable the unit runs (absolute path; required)
#   SYSTEM=1  the system template jackrec@.service and the jackrec user, into
#             /etc (as root); otherwise the user unit, into ~/.config/systemd/user
#   FORCE=1   replace or remove a unit file that was edited after it was installed
#   UNIT_DIR, SYSUSERS_DIR  where the files go (tests; defaults as above)
#
# An installed unit ends with a line holding the SHA-256 of the lines above it,
# so a unit edited since is told from one this script wrote (and may update):
# edits belong in a drop-in (`systemctl edit`), which survives reinstalling.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
action=${1:-}
STAMP='# installed by jackrec install-service; sha256 of the lines above:'

say() { printf '%s\n' "$@"; }  # one line per argument
fail() { printf 'install-service: error: %s\n' "$*" >&2; exit 1; }

if [ "${SYSTEM:-}" = 1 ]; then
    unit=jackrec@.service
    unit_dir=${UNIT_DIR:-/etc/systemd/system}
    sysusers_dir=${SYSUSERS_DIR:-/etc/sysusers.d}
    systemctl="systemctl"
    if [ -z "${UNIT_DIR:-}" ] && [ "$(id -u)" != 0 ]; then
        fail "SYSTEM=1 installs into /etc: run it as root (sudo make ... SYSTEM=1)"
    fi
else
    unit=jackrec.service
    unit_dir=${UNIT_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user}
    systemctl="systemctl --user"
fi
target=$unit_dir/$unit

# The SHA-256 of a file's lines before its stamp line.
body_sum() { grep -v -F "$STAMP" "$1" | sha256sum | cut -d' ' -f1; }
stamped_sum() { grep -F "$STAMP" "$1" | sed 's/.* //'; }

# Whether the installed unit is as this script left it (or absent).
untouched() {
    [ ! -e "$target" ] || [ "$(stamped_sum "$target")" = "$(body_sum "$target")" ]
}

refuse_edited() {
    fail "$target was edited since it was installed; keep your changes in a drop-in" \
        "('$systemctl edit ${unit%.service}${SYSTEM:+NAME}') and run again with FORCE=1 to $1 it"
}

# Refuse an executable that the unit's sandbox hides (ProtectHome=yes hides
# /home, /root and /run/user from the system service), its interpreter too.
check_reachable() {
    for path in "$JACKREC" "$(head -n 1 "$JACKREC" | sed -n 's/^#! *\([^ ]*\).*/\1/p')"; do
        [ -n "$path" ] || continue
        real=$(realpath -m "$path")
        case $real in
            /home/* | /root/* | /run/user/*)
                fail "$real is in a home directory, which the system service cannot see" \
                    "(ProtectHome=yes): install jackrec elsewhere, e.g. 'python3 -m venv" \
                    "/opt/jackrec && /opt/jackrec/bin/pip install .', and give" \
                    "JACKREC=/opt/jackrec/bin/jackrec" ;;
        esac
    done
}

install_unit() {
    [ -n "${JACKREC:-}" ] || fail "JACKREC is not set (the jackrec executable the unit runs)"
    case $JACKREC in /*) ;; *) fail "JACKREC must be an absolute path: $JACKREC" ;; esac
    [ -x "$JACKREC" ] || fail "$JACKREC is not an executable (run 'make venv', or give JACKREC=)"
    [ "${SYSTEM:-}" != 1 ] || check_reachable
    rendered=$(sed "s|@JACKREC@|$JACKREC|g" "$here/$unit")
    if [ -e "$target" ] && [ "$(body_sum "$target")" = "$(printf '%s\n' "$rendered" | sha256sum | cut -d' ' -f1)" ]; then
        say "$target is up to date"
    else
        untouched || [ "${FORCE:-}" = 1 ] || refuse_edited replace
        mkdir -p "$unit_dir"
        sum=$(printf '%s\n' "$rendered" | sha256sum | cut -d' ' -f1)
        printf '%s\n%s %s\n' "$rendered" "$STAMP" "$sum" >"$target.new"
        mv "$target.new" "$target"
        say "installed $target (running $JACKREC)"
    fi
    if [ "${SYSTEM:-}" = 1 ]; then
        mkdir -p "$sysusers_dir"
        cp "$here/jackrec.sysusers" "$sysusers_dir/jackrec.conf"
        say "installed $sysusers_dir/jackrec.conf (the jackrec user)"
        if [ -z "${SYSUSERS_DIR:-}" ]; then
            systemd-sysusers "$sysusers_dir/jackrec.conf"
            mkdir -p /etc/jackrec
        fi
        say "" "Next: write /etc/jackrec/NAME.toml (directory = \"/var/lib/jackrec/NAME\", and in" \
            "[service] socket = \"/run/jackrec/NAME.sock\"), run the JACK server as the jackrec" \
            "user, then:" \
            "  systemctl daemon-reload" \
            "  systemctl enable --now jackrec@NAME" \
            "  journalctl -u jackrec@NAME -f"
    else
        mkdir -p "$HOME/jackrec"
        say "" "Next (takes go to ~/jackrec, the unit's writable directory; settings in" \
            "~/.config/jackrec/config.toml):" \
            "  systemctl --user daemon-reload" \
            "  systemctl --user enable --now jackrec" \
            "  journalctl --user -u jackrec -f"
    fi
}

# Whether the unit (an instance of the template) is enabled (a link in a
# .wants directory) or running (when the manager answers).
in_use() {
    name=${unit%.service}
    [ "${SYSTEM:-}" = 1 ] && name=$name'*'
    for link in "$unit_dir"/*.wants/$name.service; do
        [ -L "$link" ] && return 0
    done
    $systemctl list-units --state=active --no-legend "$name.service" 2>/dev/null | grep -q .
}

uninstall_unit() {
    if [ ! -e "$target" ]; then
        say "$target is not installed"
        return
    fi
    untouched || [ "${FORCE:-}" = 1 ] || refuse_edited remove
    if in_use; then
        fail "the unit is enabled or running: first '$systemctl disable --now" \
            "${unit%.service}${SYSTEM:+NAME}'"
    fi
    rm -f "$target"
    say "removed $target (drop-ins in $target.d, if any, are left)"
    if [ "${SYSTEM:-}" = 1 ]; then
        rm -f "$sysusers_dir/jackrec.conf"
        say "removed $sysusers_dir/jackrec.conf; the jackrec user and /var/lib/jackrec are kept"
    fi
    say "Next: $systemctl daemon-reload"
}

case $action in
    install) install_unit ;;
    uninstall) uninstall_unit ;;
    *) fail "usage: install-service.sh install|uninstall" ;;
esac
