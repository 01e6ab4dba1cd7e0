#!/usr/bin/env bash
# Every relative link and image in the Markdown pages (README.md, docs/, bench/, ...) must point to
# a file that exists, and a link with #anchor to a heading of that page (GitHub's anchors), so that
# moving a section or a file cannot leave a dead link behind. Links inside code blocks and code
# spans are not links; http(s) and mailto links are not checked (no network in tests).
# Usage: tests/check_doc_links.sh [REPO_ROOT]; exit 1 and one line per broken link if any.
set -euo pipefail
root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
exec /usr/bin/python3 - "$root" <<'EOF'
import os, re, sys

root = sys.argv[1]
SKIP_DIRS = {".git", "out", "node_modules"}

def pages():
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith(("build", ".")))
        for f in sorted(files):
            if f.endswith(".md"):
                yield os.path.join(d, f)

def prose(text):
    """The page without fenced code blocks and code spans, line numbers kept."""
    out, fence = [], None
    for line in text.split("\n"):
        m = re.match(r"^\s*(`{3,}|~{3,})", line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            out.append("")
            continue
        if m:
            fence = m.group(1)
            out.append("")
            continue
        out.append(re.sub(r"(`+).*?\1", "", line))
    return out

def slug(heading):
    # GitHub: the heading's text, lower case, punctuation dropped, spaces to hyphens.
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")

anchors_cache = {}
def anchors(path):
    if path not in anchors_cache:
        seen, found = {}, set()
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        fence = None
        for line in lines:
            m = re.match(r"^\s*(`{3,}|~{3,})", line)
            if fence:
                if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                    fence = None
                continue
            if m:
                fence = m.group(1)
                continue
            h = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if h:
                s = slug(h.group(1))
                n = seen.get(s, 0)
                seen[s] = n + 1
                found.add(s if n == 0 else f"{s}-{n}")
        anchors_cache[path] = found
    return anchors_cache[path]

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
broken = 0
for page in pages():
    with open(page, encoding="utf-8") as f:
        lines = prose(f.read())
    rel_page = os.path.relpath(page, root)
    for no, line in enumerate(lines, 1):
        for m in LINK.finditer(line):
            target = m.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            problem = None
            if not os.path.exists(dest):
                problem = "no such file"
            elif anchor and dest.endswith(".md") and anchor.lower() not in anchors(dest):
                problem = f"no heading #{anchor} in {os.path.relpath(dest, root)}"
            if problem:
                print(f"{rel_page}:{no}: {target}: {problem}")
                broken += 1
if broken:
    print(f"{broken} broken link(s)")
    sys.exit(1)
EOF
