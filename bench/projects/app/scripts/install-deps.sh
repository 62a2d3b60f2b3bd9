#!/bin/sh
# Simulated "npm install": for each "name version files" line of the manifest,
# writes a package.json and <files> small modules under DEST/node_modules/name.
set -eu
manifest=$1 dest=$2
blk=$(i=0; while [ $i -lt 24 ]; do printf 'module.exports.f%02d = function (a, b) { return a + b; };\n' $i; i=$((i + 1)); done)
grep -v '^#' "$manifest" | while read -r name version files; do
	[ -n "$name" ] || continue
	d=$dest/node_modules/$name
	mkdir -p "$d/lib" "$d/types"
	printf '{ "name": "%s", "version": "%s", "main": "lib/index.js" }\n' "$name" "$version" > "$d/package.json"
	i=0
	while [ $i -lt "$files" ]; do
		printf '// %s@%s lib/m%d.js\n%s\n' "$name" "$version" $i "$blk" > "$d/lib/m$i.js"
		if [ $((i % 4)) -eq 0 ]; then
			printf 'export declare function f%d(a: number, b: number): number;\n' $i > "$d/types/m$i.d.ts"
		fi
		i=$((i + 1))
	done
	echo "installed $name@$version ($files modules)"
done
find "$dest" -type f | wc -l > "$dest/.file-count"
echo "deps: $(cat "$dest/.file-count") files"
