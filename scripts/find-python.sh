#!/bin/sh
# Print the path of a Python >= 3.12 interpreter, or explain in one sentence why there is none.
# Why a script: on these machines `python3` is 3.11 and the python3.12/3.13 pyenv shims fail
# unless a version is selected, so we probe real interpreters rather than trusting names.
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
for c in "${PYTHON:-}" python3.13 python3.12 python3.14 python3 python; do
  [ -n "$c" ] || continue
  p=$(command -v "$c" 2>/dev/null) || continue
  if ok "$p"; then echo "$p"; exit 0; fi
done
root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
for p in "$root"/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
  [ -x "$p" ] && ok "$p" && { echo "$p"; exit 0; }
done
echo "hedgesim needs Python 3.12 or newer (Mesa 3.5 requires it): install python3.12 or set PYTHON=/path/to/python3.12" >&2
exit 1
