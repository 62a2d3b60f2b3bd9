#!/bin/sh
# "Compile": strip comments and blank lines from src/*.sh, concatenate them in
# order into OUT/bin/app, and write a build manifest with checksums.
set -eu
src=$1 out=$2
mkdir -p "$out/bin" "$out/share"
{
	echo '#!/bin/sh'
	echo 'set -eu'
	for f in "$src"/lib/*.sh "$src"/main.sh; do
		echo "# --- $(basename "$f")"
		sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' "$f"
	done
} > "$out/bin/app"
chmod 755 "$out/bin/app"
md5sum "$src"/lib/*.sh "$src"/main.sh | sed "s|$src/||" > "$out/share/sources.md5"
wc -l < "$out/bin/app" > "$out/share/lines"
echo "compiled $(cat "$out/share/lines") lines"
