#!/usr/bin/python3
"""The kernel variants of the study, made from v5.9.1's mm/memory.c.

fixed   v5.9.1 as released: do_wp_page()'s anonymous reuse branch unlocks the page, then makes the
        PTE writable (wp_page_reuse), the order of be068f29034f ("mm: fix misplaced unlock_page in
        do_wp_page()", v5.9-rc7).
buggy   that fix reverted: wp_page_reuse() first, unlock_page() after it, as in v5.9-rc4..rc6. The
        window is between the two: the PTE is writable while PG_locked is still set, and a zap that
        frees the page then finds it locked ("BUG: Bad page state", flags: locked).

With --widen-us N, both orders get `udelay(N)` right after wp_page_reuse(): inside the window in the
buggy order, after it in the fixed order, so the two modified kernels do the same work and differ
only in the order. They are modified kernels, labelled as such in every result.

The edit is checked: the script fails unless the reuse branch is found exactly once, as v5.9.1 has
it. Usage: variant.py {fixed|buggy} [--widen-us N] < memory.c > memory.c.variant
"""
import argparse
import re
import sys

# The end of do_wp_page()'s PageAnon branch in v5.9.1 (mm/memory.c:3114-3116): two statements
# and the return, whatever the indentation.
REUSE = re.compile(r"(?P<i>[ \t]+)unlock_page\(page\);\n(?P=i)wp_page_reuse\(vmf\);\n(?P=i)return VM_FAULT_WRITE;\n")


def make(source: str, kind: str, widen_us: int) -> str:
    found = list(REUSE.finditer(source))
    if len(found) != 1:
        raise SystemExit(f"variant.py: do_wp_page()'s reuse branch (unlock_page; wp_page_reuse; return VM_FAULT_WRITE) "
                         f"found {len(found)} times, expected once: is this v5.9.1's mm/memory.c?")
    i = found[0].group("i")
    delay = f"{i}udelay({widen_us});  /* racewin: the window widened (a modified kernel) */\n" if widen_us else ""
    if kind == "fixed":
        body = f"{i}unlock_page(page);\n{i}wp_page_reuse(vmf);\n{delay}{i}return VM_FAULT_WRITE;\n"
    else:
        body = f"{i}wp_page_reuse(vmf);\n{delay}{i}unlock_page(page);  /* racewin: be068f29034f reverted */\n{i}return VM_FAULT_WRITE;\n"
    out = source[: found[0].start()] + body + source[found[0].end():]
    if widen_us:
        out = out.replace("#include <linux/mm.h>\n", "#include <linux/mm.h>\n#include <linux/delay.h>\n", 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description="write a study variant of v5.9.1's mm/memory.c")
    ap.add_argument("kind", choices=["fixed", "buggy"])
    ap.add_argument("--widen-us", type=int, default=0, help="udelay(N) after wp_page_reuse() (0: none)")
    a = ap.parse_args()
    if a.widen_us < 0:
        raise SystemExit("variant.py: --widen-us must be 0 or more")
    sys.stdout.write(make(sys.stdin.read(), a.kind, a.widen_us))


if __name__ == "__main__":
    main()
