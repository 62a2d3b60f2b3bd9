#!/bin/sh
# Run once by bench/build.sh in its private copy of this context, outside the
# timing: tree/dNNN/fNNNN.txt — 100 dirs x 20 text files (0.1-8 KiB) — plus
# tree/blobN.bin, 4 files of ~2 MB.
set -eu
cd "$(dirname "$0")"
rm -rf tree
awk 'BEGIN {
	line = "lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor"
	for (d = 0; d < 100; d++) {
		dir = sprintf("tree/d%03d", d)
		system("mkdir -p " dir)
		for (f = 0; f < 20; f++) {
			k = d * 20 + f
			out = sprintf("%s/f%04d.txt", dir, k)
			for (i = 0; i <= k % 100; i++) print d, f, i, line > out
			close(out)
		}
	}
	for (b = 0; b < 4; b++) {
		out = sprintf("tree/blob%d.bin", b)
		for (i = 0; i < 2097152 / 64; i++) printf "blob %d %08d %-45s\n", b, i, "" > out
		close(out)
	}
}'
