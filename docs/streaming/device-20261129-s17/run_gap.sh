#!/usr/bin/env bash
G=${G:-.leadgpu/bin/gap}
c() { echo "-- $*"; taskset -c 2 $G "$@"; }
c 0 0; c 0 0
c 100 16
c 1000 16
c 1000 20
c 1000 24 20 32
c 1000 24 20 128
c 1000 28 20 32
c 1000 28 20 128
c 1000 24 5 128
c 1000 16
