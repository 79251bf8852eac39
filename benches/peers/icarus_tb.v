// Icarus Verilog testbench: `FAMILY #(`K) clocked for +cycles=N rising
// edges, then the result is printed. Start-up is timed separately (N = 0)
// and subtracted by benches/peers/mod.rs.
module tb;
    reg clk = 0;
    wire [31:0] result;
    `FAMILY #(.K(`K)) dut (.clk(clk), .result(result));
    reg [63:0] cycles;
    initial begin
        if (!$value$plusargs("cycles=%d", cycles)) cycles = 100;
        repeat (cycles) begin
            #1 clk = 1;
            #1 clk = 0;
        end
        #1 $display("result %0d", result);
        $finish;
    end
endmodule
