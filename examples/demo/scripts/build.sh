#!/bin/sh
set -eu
echo "building $1 from $(ls | wc -l) files"
