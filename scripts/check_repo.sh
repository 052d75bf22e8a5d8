#!/usr/bin/env bash
# Checks that the repository stands on its own: nothing generated is tracked, nothing reads a folder beside
# the checkout (such as ../shared), and no machine-specific path appears in the sources or docs.
# Lists every violation and exits 1 if there is one. Run by scripts/test.sh before the build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -d '' files < <(git ls-files -z --cached)
else
  # A copy without .git (as .ci/run makes): everything outside build folders counts as tracked.
  mapfile -d '' files < <(find . -path './build*' -prune -o -path './.git' -prune -o -type f -print0 | sed -z 's|^\./||')
fi

status=0
fail() {
  echo "check_repo: $*" >&2
  status=1
}

for f in "${files[@]}"; do
  [[ -e "$f" ]] || continue
  case "$f" in
    */__pycache__/* | *.pyc) fail "generated file tracked: $f" ;;
  esac
done

# Text files only; this script names the patterns it looks for, so it skips itself.
text=()
for f in "${files[@]}"; do
  [[ -f "$f" && "$f" != scripts/check_repo.sh ]] || continue
  case "$f" in
    *.md | *.txt | *.cmake | CMakeLists.txt | */CMakeLists.txt | *.sh | *.py | *.cpp | *.h | *.in | *.sv | *.json | *.tcl | .ci/*)
      text+=("$f") ;;
  esac
done
if ((${#text[@]})); then
  while IFS= read -r hit; do fail "reads outside the repository: $hit"; done \
    < <(grep -nE '\.\./shared\b|\.\./\.\./shared\b' "${text[@]}" || true)
  while IFS= read -r hit; do fail "machine-specific path: $hit"; done \
    < <(grep -nE '(^|[[:space:]"'"'"'`(=:])/(work|root|home/[a-z][a-z0-9_-]*)/' "${text[@]}" || true)
fi

if ((status == 0)); then
  echo "check_repo: ${#files[@]} files, none generated, none reading outside the repository"
fi
exit "$status"
