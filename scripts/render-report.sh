#!/usr/bin/env bash
# Renders an rtbench report page to a PNG with headless Chromium, for a person to look at.
#   scripts/render-report.sh PAGE.html OUT.png [WIDTH]
# Installs Debian's `chromium` when no Chromium is on PATH. The page is self-contained, so the
# browser runs with networking features off; the window is tall enough for the whole page.
# Scrollbars are kept: a table wider than the window scrolls sideways, and the bar says so.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 PAGE.html OUT.png [WIDTH]" >&2
    exit 2
fi
page=$1
out=$2
width=${3:-1400}
[ -f "$page" ] || { echo "$page: no such file" >&2; exit 1; }

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
    echo "installing chromium (apt-get)..." >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    browser=$(command -v chromium)
fi

# Height: a generous estimate of what the page needs, so nothing is cut off: ~480 px per row of
# charts (two a row from 1400 px, one below), ~560 px per results file (its table and environment),
# more for the textbook table and wrapped text in a narrow window. Override with HEIGHT=...
charts=$(grep -o '<figure ' "$page" | wc -l)
runs=$(grep -o '<pre>' "$page" | wc -l)
if [ "$width" -ge 1390 ]; then
    height=${HEIGHT:-$(( 1900 + (charts + 1) / 2 * 480 + runs * 560 ))}
else
    height=${HEIGHT:-$(( 3200 + charts * 480 + runs * 640 ))}
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
abs_page=$(cd "$(dirname "$page")" && pwd)/$(basename "$page")
abs_out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run \
    --user-data-dir="$profile" --screenshot="$abs_out" --window-size="$width,$height" \
    "file://$abs_page" >/dev/null 2>&1
[ -s "$abs_out" ] || { echo "chromium wrote no screenshot to $out" >&2; exit 1; }
echo "wrote $out (${width}x${height})" >&2
