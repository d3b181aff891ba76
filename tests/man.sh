#!/bin/sh
# man.sh - the man pages docs/man.sh makes from `vigil help`: one per command and vigil.1, each
# rendering with groff without a warning, each listing under OPTIONS every option its help names,
# and a change of the help text showing in the page (the help is the pages' one source).
NAME=man
. "$(dirname "$0")/lib.sh"

# the options a help text names: -x or --long, not inside a word (pdq-photo-hasher)
opts_of() { grep -o -- '\(^\|[^A-Za-z0-9-]\)--\?[a-z][a-z0-9-]*' | sed 's/^[^-]*//' | sort -u; }
# a page as plain text on one long line per paragraph (no hyphenation splits an option)
render() { groff -man -Tascii -P-cbou -rLL=3000n "$1" 2>/dev/null; }
# the OPTIONS section of a rendered page
options_section() { render "$1" | awk '/^OPTIONS$/ {o = 1; next} /^[A-Z][A-Z ]*$/ {o = 0} o'; }

if ! command -v groff >/dev/null 2>&1; then
    bad "groff is installed (tests/install-deps.sh test installs groff-base)"
    finish; exit 1
fi

if sh docs/man.sh "$V" "$T/man" 2>"$T/err"; then ok "docs/man.sh writes the pages"
else bad "docs/man.sh writes the pages" "$(cat "$T/err")"; fi

cmds=$("$V" help | awk '/^Commands:/ {c = 1; next} c && /^  [a-z]/ && $1 != "help" {print $1} c && /^$/ {c = 0}')
check "the overview lists the eight commands" test "$(echo $cmds)" = "hash index match scan review rooms video serve"

for page in vigil $(for c in $cmds; do echo "vigil-$c"; done); do
    f="$T/man/$page.1"
    if [ ! -s "$f" ]; then bad "$page.1 exists"; continue; fi
    w=$(groff -man -Tutf8 -ww -z "$f" 2>&1)
    if [ -z "$w" ]; then ok "$page.1 renders with groff -man -Tutf8 -ww and no warning"
    else bad "$page.1 renders with groff -man -Tutf8 -ww and no warning" "$w"; fi
    if command -v man >/dev/null 2>&1; then
        w=$(MANWIDTH=80 man -l "$f" 2>&1 >/dev/null)
        if [ -z "$w" ]; then ok "$page.1 renders with man -l"; else bad "$page.1 renders with man -l" "$w"; fi
    fi
    text=$(render "$f")
    for s in NAME SYNOPSIS DESCRIPTION OPTIONS "SEE ALSO"; do
        printf '%s\n' "$text" | grep -qx "$s" || bad "$page.1 has a $s section"
    done
    if [ "$page" = vigil ]; then
        help=$("$V" help)
        for c in $cmds; do
            printf '%s\n' "$text" | grep -q "vigil-$c(1)" || bad "vigil.1 refers to vigil-$c(1)"
        done
    else
        help=$("$V" help "${page#vigil-}")
        printf '%s\n' "$text" | grep -q "^EXIT STATUS$" || bad "$page.1 has an EXIT STATUS section"
        printf '%s\n' "$text" | grep -q "^ *vigil ${page#vigil-}" || bad "$page.1 has its synopsis"
    fi
    missing=""
    section=$(options_section "$f")
    for o in $(printf '%s\n' "$help" | opts_of); do
        printf '%s\n' "$section" | grep -q -- "\\(^\\|[ ,]\\)$o\\($\\|[ ,]\\)" || missing="$missing $o"
    done
    n=$(printf '%s\n' "$help" | opts_of | wc -l)
    if [ -z "$missing" ] && [ "$n" -ge 2 ]; then ok "$page.1 lists under OPTIONS all $n options of its help"
    else bad "$page.1 lists under OPTIONS all $n options of its help" "missing:$missing"; fi
done

# the same source: a help text with one more option gives a page with it
case $V in /*) absv=$V ;; *) absv=$PWD/$V ;; esac
cat > "$T/fake" <<EOS
#!/bin/sh
if [ "\$2" = hash ]; then
    "$absv" help hash | sed 's/^  --exact /  --frobnicate     turn the frobs\\n  --exact /' | sed 's/\\\\n/\\
/'
else "$absv" "\$@"; fi
EOS
chmod +x "$T/fake"
sh docs/man.sh "$T/fake" "$T/man2" >/dev/null 2>&1
if options_section "$T/man2/vigil-hash.1" | grep -q -- "--frobnicate" &&
   options_section "$T/man2/vigil-hash.1" | grep -q "turn the frobs" &&
   ! render "$T/man/vigil-hash.1" | grep -q frobnicate; then
    ok "a new option in the help text appears in the page"
else bad "a new option in the help text appears in the page" "$(options_section "$T/man2/vigil-hash.1" | head -5)"; fi
# the page's header carries the version the program reports
ver=$("$V" --version | sed -n 's/^vigil \([^ ]*\).*/\1/p')
check "the pages carry the program's version ($ver)" grep -q "vigil $ver" "$T/man/vigil-scan.1"
finish
