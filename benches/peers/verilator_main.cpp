// Verilator harness: clocks the family's top module for argv[1] rising
// edges and prints the result and the seconds the edges took (construction
// and the initial blocks excluded). Built by benches/peers/mod.rs with
// `--prefix Vfamily`, whatever the top module.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <verilated.h>
#include "Vfamily.h"

int main(int argc, char** argv) {
    unsigned long long cycles = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100;
    VerilatedContext context;
    Vfamily top{&context};
    top.clk = 0;
    top.eval();
    auto start = std::chrono::steady_clock::now();
    for (unsigned long long i = 0; i < cycles; ++i) {
        top.clk = 1;
        top.eval();
        top.clk = 0;
        top.eval();
    }
    std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
    top.final();
    std::printf("result %u\nseconds %.9f\n", static_cast<unsigned>(top.result), seconds.count());
    return 0;
}
