#!/bin/sh
echo "Hello from tsbuild, built on $(uname -s) by $(id -un 2>/dev/null || id -u)"
