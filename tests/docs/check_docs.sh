#!/usr/bin/env bash
# tests/docs: the documentation map holds. Every docs/*.md that README.md or docs/*.md names exists
# and is not (nearly) empty, and no committed docs/*.md is. Session 17 truncated docs/STREAMING.md
# to 0 bytes by accident and nothing noticed for a session; this is that regression test.
# Usage: tests/docs/check_docs.sh [project root]   (exit 1 naming each problem)
set -u
root=${1:-.}
cd "$root" || { echo "check_docs: no such directory: $root"; exit 1; }
fail=0
min_lines=20
for f in docs/*.md; do
  n=$(wc -l < "$f")
  if [ "$n" -lt "$min_lines" ]; then
    echo "check_docs: $f has $n lines (fewer than $min_lines): truncated? (git log -p -- $f)"
    fail=1
  fi
done
# Every docs/NAME.md named in README.md or docs/*.md exists.
for ref in $(grep -oh 'docs/[A-Za-z0-9_]*\.md' README.md docs/*.md | sort -u); do
  if [ ! -f "$ref" ]; then
    echo "check_docs: $ref is named ($(grep -l "$ref" README.md docs/*.md | tr '\n' ' ')) but does not exist"
    fail=1
  fi
done
[ "$fail" -eq 0 ] && echo "check_docs: $(ls docs/*.md | wc -l) docs, every named one present and non-empty"
exit "$fail"
