// The four benchmark families of circuits/bench/ in SystemC, one module per
// component, each a SC_METHOD (sensitive to the clock's rising edge, or to
// its inputs for the XOR), so that benches/families.rs measures SystemC on
// the same circuits in the same run. The same results as families.v.
//
//   systemc_families FAMILY K CYCLES
//
// prints the result and the seconds the cycles took (elaboration excluded).
#include <systemc.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

SC_MODULE(Counter) {
    sc_in<bool> clk;
    sc_in<bool> en;
    sc_out<uint32_t> q;
    void tick() {
        if (en.read()) q.write(q.read() + 1);
    }
    SC_CTOR(Counter) {
        SC_METHOD(tick);
        sensitive << clk.pos();
        dont_initialize();
    }
};

SC_MODULE(Lfsr) {
    sc_in<bool> clk;
    sc_out<uint32_t> q;
    void tick() {
        uint32_t s = q.read();
        q.write((s >> 1) ^ ((s & 1) ? 0x80200003u : 0u));
    }
    SC_CTOR(Lfsr) {
        SC_METHOD(tick);
        sensitive << clk.pos();
        dont_initialize();
    }
};

SC_MODULE(XorReduce) {
    sc_vector<sc_in<uint32_t>> in;
    sc_out<uint32_t> out;
    void eval() {
        uint32_t x = 0;
        for (auto& i : in) x ^= i.read();
        out.write(x);
    }
    XorReduce(sc_module_name name, int k) : sc_module(name), in("in", k) {
        SC_METHOD(eval);
        for (auto& i : in) sensitive << i;
    }
    SC_HAS_PROCESS(XorReduce);
};

SC_MODULE(Stage) {
    sc_in<bool> clk;
    sc_in<uint32_t> d;
    sc_out<uint32_t> q;
    uint32_t c = 1;
    void tick() {
        uint32_t x = d.read();
        q.write((x + c) ^ (x << 1));
    }
    SC_CTOR(Stage) {
        SC_METHOD(tick);
        sensitive << clk.pos();
        dont_initialize();
    }
};

static uint64_t mix(uint64_t x) {
    uint64_t z = x * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// The hash and deposit of src/primitives/hit_pixel.rs.
SC_MODULE(HitPixel) {
    sc_in<bool> clk;
    sc_out<bool> hit;
    sc_out<uint32_t> charge;
    uint64_t seed = 0, cycle = 0, acc = 0, threshold = 1000, max_step = 255;
    void tick() {
        uint64_t h = mix(seed ^ ((cycle << 32) | (cycle >> 32)));
        uint64_t next = acc + (uint64_t)(((__uint128_t)h * (max_step + 1)) >> 64);
        cycle++;
        bool fired = next >= threshold;
        acc = fired ? 0 : next;
        hit.write(fired);
        charge.write((uint32_t)acc);
    }
    SC_CTOR(HitPixel) {
        SC_METHOD(tick);
        sensitive << clk.pos();
        dont_initialize();
    }
};

// The pixel of circuits/bench/expr_pixels.ron.
SC_MODULE(ExprPixel) {
    sc_in<bool> clk;
    sc_out<bool> hit;
    uint32_t index = 0, t = 0;
    uint16_t charge = 0;
    void tick() {
        uint32_t mix = (t + index) * 0x9E3779B1u;
        uint32_t h = (mix ^ (mix >> 15)) * 0x2C1B3C6Du;
        uint16_t sum = (uint16_t)(charge + (h >> 24));
        bool fire = sum >= 1000;
        t++;
        charge = fire ? 0 : sum;
        hit.write(fire);
    }
    SC_CTOR(ExprPixel) {
        SC_METHOD(tick);
        sensitive << clk.pos();
        dont_initialize();
    }
};

// cpu8 running circuits/bench/cpu8_loop.hex, as one module.
SC_MODULE(Cpu8) {
    sc_in<bool> clk;
    sc_out<uint32_t> acc_out;
    uint8_t pc = 0, acc = 0, x = 0, mem[256] = {};
    void tick() {
        static const uint16_t rom[20] = {0x1000, 0x30f0, 0x1001, 0x30f1, 0x100e, 0x30f3, 0x9000,
                                         0x20f0, 0xa000, 0x40f1, 0x30f2, 0x20f1, 0x30f0, 0x20f2,
                                         0x30f1, 0x20f3, 0xb0ff, 0x30f3, 0x8007, 0x6000};
        uint16_t instr = pc < 20 ? rom[pc] : 0;
        unsigned op = instr >> 12;
        uint8_t arg = instr & 0xff;
        uint8_t addr = op == 10 ? x : arg;
        uint8_t b = (op == 1 || op == 11) ? arg : mem[addr];
        bool taken = op == 6 || (op == 7 && acc == 0) || (op == 8 && acc != 0);
        uint8_t pc_next = op == 0 ? pc : taken ? arg : (uint8_t)(pc + 1);
        if (op == 3 || op == 10) mem[addr] = acc;
        if (op == 9) x = arg;
        if (op == 10) x++;
        if (op == 1 || op == 2) acc = b;
        if (op == 4 || op == 11) acc += b;
        if (op == 5) acc -= b;
        pc = pc_next;
        acc_out.write(acc);
    }
    SC_CTOR(Cpu8) {
        SC_METHOD(tick);
        sensitive << clk.pos();
        dont_initialize();
    }
};

SC_MODULE(Arbiter) {
    sc_in<bool> clk;
    sc_vector<sc_in<bool>> req;
    sc_out<bool> valid;
    sc_out<uint32_t> owner;
    int k, last;
    void tick() {
        int i = last + 1 == k ? 0 : last + 1;
        int j = 0;
        while (j < k && !req[i].read()) {
            i = i + 1 == k ? 0 : i + 1;
            j++;
        }
        valid.write(j < k);
        owner.write(j < k ? i : 0);
        if (j < k) last = i;
    }
    Arbiter(sc_module_name name, int k) : sc_module(name), req("req", k), k(k), last(k - 1) {
        SC_METHOD(tick);
        sensitive << clk.pos();
        dont_initialize();
    }
    SC_HAS_PROCESS(Arbiter);
};

int sc_main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s counters|lfsrs|chain|pixels|expr_pixels|cpu8_loop K CYCLES\n", argv[0]);
        return 2;
    }
    std::string family = argv[1];
    int k = std::atoi(argv[2]);
    unsigned long long cycles = std::strtoull(argv[3], nullptr, 10);
    // First rising edge at 1 ns, then every 2 ns: CYCLES edges in 2 × CYCLES ns.
    sc_clock clk("clk", sc_time(2, SC_NS), 0.5, sc_time(1, SC_NS), true);
    sc_signal<bool> one("one");
    one.write(true);
    sc_signal<uint32_t>* result = nullptr;

    sc_vector<Counter> counters("c");
    sc_vector<sc_signal<uint32_t>> qs("q");
    sc_vector<Lfsr> lfsrs("l");
    XorReduce* x = nullptr;
    sc_signal<uint32_t> out("out");
    sc_vector<Stage> stages("s");
    Counter* src = nullptr;
    sc_vector<HitPixel> pixels("pix");
    sc_vector<sc_signal<bool>> hits("hit");
    sc_vector<sc_signal<uint32_t>> charges("charge");
    Arbiter* readout = nullptr;
    sc_signal<bool> valid("valid");
    sc_signal<uint32_t> owner("owner");
    Counter* hit_counter = nullptr;
    sc_vector<ExprPixel> expr_pixels("xpix");
    Cpu8* cpu = nullptr;

    if (family == "counters") {
        counters.init(k);
        qs.init(k);
        for (int i = 0; i < k; i++) {
            counters[i].clk(clk);
            counters[i].en(one);
            counters[i].q(qs[i]);
            qs[i].write(i);
        }
        result = &qs[k - 1];
    } else if (family == "lfsrs") {
        lfsrs.init(k);
        qs.init(k);
        x = new XorReduce("x", k);
        for (int i = 0; i < k; i++) {
            lfsrs[i].clk(clk);
            lfsrs[i].q(qs[i]);
            qs[i].write(i + 1);
            x->in[i](qs[i]);
        }
        x->out(out);
        result = &out;
    } else if (family == "chain") {
        stages.init(k);
        qs.init(k + 1);
        src = new Counter("src");
        src->clk(clk);
        src->en(one);
        src->q(qs[0]);
        for (int i = 0; i < k; i++) {
            stages[i].clk(clk);
            stages[i].d(qs[i]);
            stages[i].q(qs[i + 1]);
            stages[i].c = 2 * i + 1;
        }
        result = &qs[k];
    } else if (family == "pixels") {
        pixels.init(k);
        hits.init(k);
        charges.init(k);
        readout = new Arbiter("readout", k);
        readout->clk(clk);
        for (int i = 0; i < k; i++) {
            pixels[i].clk(clk);
            pixels[i].hit(hits[i]);
            pixels[i].charge(charges[i]);
            pixels[i].seed = mix(i);
            readout->req[i](hits[i]);
        }
        readout->valid(valid);
        readout->owner(owner);
        hit_counter = new Counter("hits");
        hit_counter->clk(clk);
        hit_counter->en(valid);
        qs.init(1);
        hit_counter->q(qs[0]);
        result = &qs[0];
    } else if (family == "expr_pixels") {
        expr_pixels.init(k);
        hits.init(k);
        readout = new Arbiter("readout", k);
        readout->clk(clk);
        for (int i = 0; i < k; i++) {
            expr_pixels[i].clk(clk);
            expr_pixels[i].hit(hits[i]);
            expr_pixels[i].index = i;
            readout->req[i](hits[i]);
        }
        readout->valid(valid);
        readout->owner(owner);
        hit_counter = new Counter("hits");
        hit_counter->clk(clk);
        hit_counter->en(valid);
        qs.init(1);
        hit_counter->q(qs[0]);
        result = &qs[0];
    } else if (family == "cpu8_loop") {
        cpu = new Cpu8("cpu");
        cpu->clk(clk);
        qs.init(1);
        cpu->acc_out(qs[0]);
        result = &qs[0];
    } else {
        std::fprintf(stderr, "unknown family %s\n", family.c_str());
        return 2;
    }

    sc_start(SC_ZERO_TIME);
    auto start = std::chrono::steady_clock::now();
    sc_start(sc_time(2.0 * cycles, SC_NS));
    std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
    std::printf("result %u\nseconds %.9f\n", result->read(), seconds.count());
    return 0;
}
