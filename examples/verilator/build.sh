#!/bin/sh
# Build the Verilog CRC into obj_dir/crc8_model, a program that speaks
# cspsim's process protocol (needs Verilator: apt-get install verilator).
set -e
cd "$(dirname "$0")"
verilator --cc crc8.v --exe main.cpp --build -j 2 -O2 --Mdir obj_dir -o crc8_model > /dev/null
echo "built $(pwd)/obj_dir/crc8_model"
