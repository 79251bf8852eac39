// The four benchmark families of circuits/bench/ in Verilog, one module per
// component as a designer would write them, so that benches/families.rs
// measures Icarus Verilog and Verilator on the same circuits in the same run.
// Each top module has a clock input and one `result` output: the net the
// cross-check in tests/peers_agree.rs compares with cspsim's. Written for
// the simulators' speed: arrays of words rather than one wide vector with
// a part-select per component (Icarus re-resolved the whole vector on every
// change: 50x slower at K = 256), 64-bit arithmetic rather than 128-bit
// (Verilator: 1.8x), and the XOR and the arbiter inside the top module, as
// Verilog-2005 ports cannot carry an array. Outputs nothing reads (all
// counters but the last, the arbiter's owner) are marked public, because
// the compiled simulator would otherwise delete them: cspsim computes them all.
// (No line of a comment may start with the compiler's name: it reads that
// as a directive.)
//
//   counters #(K): K 32-bit counters, counter i starting at i.  result: c[K-1].q
//   lfsrs #(K):    K 32-bit Galois LFSRs (seed i+1) and a K-input XOR.  result: x.y
//   chain #(K):    a counter feeding K stages q <= (d + 2i+1) ^ (d << 1).  result: s[K-1].q
//   pixels #(K):   K hit pixels (seed i), a round-robin arbiter, a hit counter.  result: hits.q
//   expr_pixels #(K): the same with the pixel written as the expression of
//                  circuits/bench/expr_pixels.ron (a 32-bit hash of index and
//                  cycle, threshold, reset, hit).  result: hits.q
//   cpu8_loop #(K): the cpu8 processor running cpu8_loop.hex, in one module
//                  with a combinational ROM and RAM (K is ignored).  result: acc

module counter #(parameter [31:0] START = 0) (input clk, input en,
                                             output reg [31:0] q /*verilator public_flat_rd*/);
    initial q = START;
    always @(posedge clk) if (en) q <= q + 1;
endmodule

module lfsr #(parameter [31:0] SEED = 1, parameter [31:0] TAPS = 32'h8020_0003)
        (input clk, output reg [31:0] q);
    initial q = SEED;
    always @(posedge clk) q <= (q >> 1) ^ (q[0] ? TAPS : 32'd0);
endmodule

module stage #(parameter [31:0] C = 1) (input clk, input [31:0] d, output reg [31:0] q);
    initial q = 0;
    always @(posedge clk) q <= (d + C) ^ (d << 1);
endmodule

// The hash and deposit of src/primitives/hit_pixel.rs, bit for bit.
module hit_pixel #(parameter [63:0] SEED = 0, parameter [63:0] THRESHOLD = 1000,
                   parameter [63:0] MAX_STEP = 255)
        (input clk, output reg hit, output [31:0] charge);
    function [63:0] mix(input [63:0] x);
        reg [63:0] z;
        begin
            z = x * 64'h9E37_79B9_7F4A_7C15;
            z = (z ^ (z >> 30)) * 64'hBF58_476D_1CE4_E5B9;
            z = (z ^ (z >> 27)) * 64'h94D0_49BB_1331_11EB;
            mix = z ^ (z >> 31);
        end
    endfunction
    reg [63:0] seed, cycle, acc, next;
    reg [63:0] z;
    assign charge = acc[31:0];
    initial begin
        seed = mix(SEED);
        cycle = 0;
        acc = 0;
        hit = 0;
    end
    always @(posedge clk) begin
        z = (seed ^ {cycle[31:0], cycle[63:32]}) * 64'h9E37_79B9_7F4A_7C15;
        z = (z ^ (z >> 30)) * 64'hBF58_476D_1CE4_E5B9;
        z = (z ^ (z >> 27)) * 64'h94D0_49BB_1331_11EB;
        z = z ^ (z >> 31);  // = mix(seed ^ cycle rotated by 32), inline
        // The deposit is the high half of z * (MAX_STEP + 1), a 128-bit
        // product, computed from two 64-bit ones (MAX_STEP + 1 <= 2^32).
        next = acc + ((z[63:32] * (MAX_STEP + 1) + ((z[31:0] * (MAX_STEP + 1)) >> 32)) >> 32);
        cycle <= cycle + 1;
        hit <= next >= THRESHOLD;
        acc <= next >= THRESHOLD ? 64'd0 : next;
    end
endmodule

module counters #(parameter K = 16) (input clk, output [31:0] result);
    wire [31:0] q [0:K-1];
    genvar i;
    generate for (i = 0; i < K; i = i + 1) begin : c
        counter #(.START(i)) u (.clk(clk), .en(1'b1), .q(q[i]));
    end endgenerate
    assign result = q[K-1];
endmodule

module lfsrs #(parameter K = 16) (input clk, output reg [31:0] result);
    wire [31:0] q [0:K-1];
    genvar i;
    generate for (i = 0; i < K; i = i + 1) begin : l
        lfsr #(.SEED(i + 1)) u (.clk(clk), .q(q[i]));
    end endgenerate
    // x: the K-input XOR reduction.
    integer j;
    always @* begin
        result = 0;
        for (j = 0; j < K; j = j + 1) result = result ^ q[j];
    end
endmodule

module chain #(parameter K = 16) (input clk, output [31:0] result);
    wire [31:0] q [0:K];
    counter src (.clk(clk), .en(1'b1), .q(q[0]));
    genvar i;
    generate for (i = 0; i < K; i = i + 1) begin : s
        stage #(.C(2 * i + 1)) u (.clk(clk), .d(q[i]), .q(q[i + 1]));
    end endgenerate
    assign result = q[K];
endmodule

module pixels #(parameter K = 16) (input clk, output [31:0] result);
    wire hit [0:K-1];
    genvar i;
    generate for (i = 0; i < K; i = i + 1) begin : pix
        hit_pixel #(.SEED(i)) u (.clk(clk), .hit(hit[i]), .charge());
    end endgenerate
    // readout: a registered round-robin arbiter. It grants the first raised
    // hit after the last grant; the grant shows the next cycle as `valid`.
    reg valid;
    reg [31:0] owner /*verilator public_flat_rd*/;
    integer last, n, j;
    initial begin
        last = K - 1;
        valid = 0;
        owner = 0;
    end
    always @(posedge clk) begin
        n = last + 1 == K ? 0 : last + 1;
        j = 0;
        while (j < K && !hit[n]) begin
            n = n + 1 == K ? 0 : n + 1;
            j = j + 1;
        end
        valid <= j < K;
        owner <= j < K ? n : 0;
        if (j < K) last = n;
    end
    counter hits (.clk(clk), .en(valid), .q(result));
endmodule

// The pixel of circuits/bench/expr_pixels.ron, expression for expression.
module expr_pixel #(parameter [31:0] I = 0) (input clk, output reg hit);
    reg [31:0] t;
    reg [15:0] charge;
    wire [31:0] mix = (t + I) * 32'h9E37_79B1;
    wire [31:0] h = (mix ^ (mix >> 15)) * 32'h2C1B_3C6D;
    wire [7:0] deposit = h >> 24;
    wire [15:0] sum = charge + deposit;
    wire fire = sum >= 1000;
    initial begin
        t = 0;
        charge = 0;
        hit = 0;
    end
    always @(posedge clk) begin
        t <= t + 1;
        charge <= fire ? 16'd0 : sum;
        hit <= fire;
    end
endmodule

module expr_pixels #(parameter K = 16) (input clk, output [31:0] result);
    wire hit [0:K-1];
    genvar i;
    generate for (i = 0; i < K; i = i + 1) begin : pix
        expr_pixel #(.I(i)) u (.clk(clk), .hit(hit[i]));
    end endgenerate
    // readout: as in `pixels`.
    reg valid;
    reg [31:0] owner /*verilator public_flat_rd*/;
    integer last, n, j;
    initial begin
        last = K - 1;
        valid = 0;
        owner = 0;
    end
    always @(posedge clk) begin
        n = last + 1 == K ? 0 : last + 1;
        j = 0;
        while (j < K && !hit[n]) begin
            n = n + 1 == K ? 0 : n + 1;
            j = j + 1;
        end
        valid <= j < K;
        owner <= j < K ? n : 0;
        if (j < K) last = n;
    end
    counter hits (.clk(clk), .en(valid), .q(result));
endmodule

// cpu8 (circuits/cpu8.ron, its ISA and control expression) running the
// program of circuits/bench/cpu8_loop.hex, in one module.
module cpu8_loop #(parameter K = 1) (input clk, output [31:0] result);
    reg [7:0] pc, acc, x;
    reg [7:0] mem [0:255];
    reg [15:0] instr;
    always @* case (pc)
        8'h00: instr = 16'h1000;  8'h01: instr = 16'h30f0;  8'h02: instr = 16'h1001;
        8'h03: instr = 16'h30f1;  8'h04: instr = 16'h100e;  8'h05: instr = 16'h30f3;
        8'h06: instr = 16'h9000;  8'h07: instr = 16'h20f0;  8'h08: instr = 16'ha000;
        8'h09: instr = 16'h40f1;  8'h0a: instr = 16'h30f2;  8'h0b: instr = 16'h20f1;
        8'h0c: instr = 16'h30f0;  8'h0d: instr = 16'h20f2;  8'h0e: instr = 16'h30f1;
        8'h0f: instr = 16'h20f3;  8'h10: instr = 16'hb0ff;  8'h11: instr = 16'h30f3;
        8'h12: instr = 16'h8007;  8'h13: instr = 16'h6000;
        default: instr = 16'h0000;
    endcase
    wire [3:0] op = instr[15:12];
    wire [7:0] arg = instr[7:0];
    wire use_imm = op == 1 || op == 11;
    wire sub = op == 5;
    wire acc_load = op == 1 || op == 2;
    wire acc_we = op == 1 || op == 2 || op == 4 || op == 5 || op == 11;
    wire mem_we = op == 3 || op == 10;
    wire [7:0] addr = op == 10 ? x : arg;
    wire [7:0] x_next = op == 9 ? arg : x + 8'd1;
    wire x_we = op == 9 || op == 10;
    wire taken = op == 6 || op == 7 && acc == 0 || op == 8 && acc != 0;
    wire [7:0] pc_next = op == 0 ? pc : taken ? arg : pc + 8'd1;
    wire [7:0] b = use_imm ? arg : mem[addr];
    wire [7:0] y = sub ? acc - b : acc + b;
    integer i;
    initial begin
        pc = 0;
        acc = 0;
        x = 0;
        for (i = 0; i < 256; i = i + 1) mem[i] = 0;
    end
    always @(posedge clk) begin
        pc <= pc_next;
        if (acc_we) acc <= acc_load ? b : y;
        if (x_we) x <= x_next;
        if (mem_we) mem[addr] <= acc;
    end
    assign result = {24'd0, acc};
endmodule
