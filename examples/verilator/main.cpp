// The Verilator-built crc8 as a cspsim `process` component: the process
// protocol (docs/process-protocol.md) around the generated Vcrc8 model.
// Inputs data (8 bits) and en (1); output crc (8, registered).
#include "Vcrc8.h"
#include "verilated.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

static bool read_all(void* to, size_t n) {
    char* p = static_cast<char*>(to);
    while (n > 0) {
        ssize_t r = read(0, p, n);
        if (r <= 0) return false;
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

struct Frame {  // length, kind, payload; little-endian (as x86 and ARM are)
    std::vector<uint8_t> b;
    explicit Frame(uint8_t kind) : b(4) { b.push_back(kind); }
    void put(const void* p, size_t n) { b.insert(b.end(), (const uint8_t*)p, (const uint8_t*)p + n); }
    void u32(uint32_t v) { put(&v, 4); }
    void u64(uint64_t v) { put(&v, 8); }
    void str(const std::string& s) { u32(s.size()); put(s.data(), s.size()); }
    void port(const char* name, uint8_t width) { str(name); b.push_back(width); b.push_back(0); }
    void send() {
        uint32_t len = b.size() - 4;
        std::memcpy(b.data(), &len, 4);
        for (size_t at = 0; at < b.size();) {
            ssize_t w = write(1, b.data() + at, b.size() - at);
            if (w <= 0) _exit(1);
            at += static_cast<size_t>(w);
        }
    }
};

int main(int argc, char** argv) {
    Verilated::commandArgs(argc, argv);
    Vcrc8 top;
    std::vector<uint8_t> payload;
    for (;;) {
        uint32_t len;
        uint8_t kind;
        if (!read_all(&len, 4) || len == 0 || !read_all(&kind, 1)) return 0;
        payload.resize(len - 1);
        if (len > 1 && !read_all(payload.data(), len - 1)) return 0;
        if (kind == 0x01) {  // Hello: our ports
            Frame f(0x81);
            f.u32(1);
            f.u32(2), f.port("data", 8), f.port("en", 1);
            f.u32(1), f.port("crc", 8);
            f.send();
        } else if (kind == 0x02) {  // Reset: the initial crc
            top.clk = 0, top.en = 0, top.data = 0;
            top.eval();
            Frame f(0x82);
            f.u64(top.crc);
            f.send();
        } else if (kind == 0x04 && payload.size() == 16) {  // Tick: a rising edge
            uint64_t in[2];
            std::memcpy(in, payload.data(), 16);
            top.data = in[0], top.en = in[1];
            top.clk = 0, top.eval();
            top.clk = 1, top.eval();
            Frame f(0x82);
            f.u64(top.crc);
            f.send();
        } else if (kind == 0x05) {  // Finish
            Frame(0x85).send();
            top.final();
            return 0;
        } else {
            Frame f(0x8f);
            f.b.push_back(1);
            f.str("crc8: unexpected frame kind " + std::to_string(kind));
            f.send();
        }
    }
}
