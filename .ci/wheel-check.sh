#!/usr/bin/env bash
# CI, after make test: build the sdist and the wheel, check their contents and metadata, install the
# wheel (not editable) with its extras into a fresh virtualenv outside the checkout, and run from
# there what a user runs: the console scripts, the migrations, pserve of the demo and the inspector.
# Every test runs from the editable checkout; this is what catches a template, a stylesheet, a .tcss
# file or a migration missing from the wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

WORK=$(mktemp -d)
SERVER_PID=
TMUX_SOCKET=$WORK/tmux.sock
clean_up() {
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  tmux -S "$TMUX_SOCKET" kill-server 2>/dev/null || true
  rm -rf "$WORK"
}
trap clean_up EXIT

step() { echo "wheel-check: $*"; }

step "building the sdist, and the wheel from it"
.venv/bin/python -m pip install --quiet -e '.[release]'
# From the files git tracks alone: the checkout's egg-info (left by the editable install) would
# hand setuptools a list of files that pyproject.toml and MANIFEST.in no longer name.
mkdir "$WORK/src"
git ls-files -z | xargs -0 cp --parents -t "$WORK/src"
.venv/bin/python -m build --outdir "$WORK/dist" "$WORK/src" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
.venv/bin/check-manifest  # the sdist holds every file git tracks, but CI's own (pyproject.toml)
.venv/bin/twine check --strict "$WORK"/dist/*
.venv/bin/check-wheel-contents "$WORK"/dist/*.whl
WHEEL=$(echo "$WORK"/dist/*.whl)

step "installing $(basename "$WHEEL") with its extras into a fresh virtualenv"
python3 -m venv "$WORK/venv"
BIN=$WORK/venv/bin
"$BIN/python" -m pip install --quiet "$WHEEL[postgresql,mariadb,demo,alembic,inspector]"
cd "$WORK"  # outside the checkout: nothing below can import from it
"$BIN/python" - <<'EOF'
import inspector, pyramid_dbsession
for module in (pyramid_dbsession, inspector):
    assert "/site-packages/" in module.__file__, f"{module.__name__} imported from {module.__file__}"
EOF

# The demo's development.ini, its SQLite file next to it, and production.ini with a secret.ini made
# as its comment says, on a SQLite file of its own.
cp "$ROOT/development.ini" development.ini
sed 's|^dbsession.url = .*|dbsession.url = sqlite:///%(here)s/production.sqlite|' "$ROOT/production.ini" >production.ini
(
  umask 077
  printf '[app:secret]\nuse = egg:pyramid_dbsession\ndbsession.secret = %s\n' \
    "$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')" >secret.ini
)

step "dbsession-initdb and dbsession-cleanup --dry-run on development.ini"
"$BIN/dbsession-initdb" development.ini
"$BIN/dbsession-cleanup" --dry-run development.ini

step "the migrations on production.ini"
"$BIN/alembic" -c production.ini upgrade head
# A wheel without the revision files would upgrade nothing, and say nothing.
"$BIN/alembic" -c production.ini current | grep -q "(head)" || { echo "the migrations did not reach head" >&2; exit 1; }

# production.ini must give the deploy check nothing to say.
step "dbsession-check on production.ini"
"$BIN/dbsession-check" production.ini --fail-level warning

step "pserve development.ini, and one page of the demo"
PORT=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i "s|^listen = .*|listen = 127.0.0.1:$PORT|" development.ini
"$BIN/pserve" development.ini >pserve.log 2>&1 &
SERVER_PID=$!
"$BIN/python" - "$PORT" <<'EOF' || { cat pserve.log; exit 1; }
import sys, time, urllib.request

base = f"http://127.0.0.1:{sys.argv[1]}"
deadline = time.monotonic() + 60
while True:
    try:
        page = urllib.request.urlopen(f"{base}/counter", timeout=10)
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.2)
html = page.read().decode()
cookie = page.headers["Set-Cookie"] or ""
assert "visited this page 1 time" in html, html  # the Jinja2 templates
assert 'id="pShowToolBarButton"' in html, "no debug toolbar on the page"
assert cookie.startswith("session="), cookie
css = urllib.request.urlopen(f"{base}/static/demo.css", timeout=10)
assert css.status == 200 and css.read(), "no stylesheet"
EOF
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=

step "dbsession-inspector --help, and one start in tmux on the session just stored"
"$BIN/dbsession-inspector" --help >/dev/null
tmux -S "$TMUX_SOCKET" -f /dev/null new-session -d -s inspector -x 120 -y 30 -e TEXTUAL_ANIMATIONS=none \
  "$BIN/dbsession-inspector development.ini --refresh 0"
tmux -S "$TMUX_SOCKET" set-option -w -t inspector remain-on-exit on
screen() { tmux -S "$TMUX_SOCKET" capture-pane -p -S -200 -t inspector; }
pane() { tmux -S "$TMUX_SOCKET" display-message -p -t inspector "#{$1}"; }
for _ in $(seq 300); do
  if screen | grep -q visits || [[ $(pane pane_dead) == 1 ]]; then break; fi
  sleep 0.1
done
screen | grep -q visits || { screen; echo "the inspector did not show the session" >&2; exit 1; }
tmux -S "$TMUX_SOCKET" send-keys -t inspector q
for _ in $(seq 100); do
  if [[ $(pane pane_dead) == 1 ]]; then break; fi
  sleep 0.1
done
[[ $(pane pane_dead) == 1 && $(pane pane_dead_status) == 0 ]] || { screen; echo "the inspector did not quit cleanly" >&2; exit 1; }

step "passed"
