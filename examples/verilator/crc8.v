// CRC-8 (polynomial x^8 + x^2 + x + 1, 0x07), one byte a clock when `en`:
// RTL that a user already has, run as a cspsim component (see README.md).
module crc8(input clk, input [7:0] data, input en, output reg [7:0] crc);
  initial crc = 8'h00;

  function [7:0] step(input [7:0] c, input [7:0] d);
    integer i;
    reg [7:0] x;
    begin
      x = c ^ d;
      for (i = 0; i < 8; i = i + 1)
        x = x[7] ? ((x << 1) ^ 8'h07) : (x << 1);
      step = x;
    end
  endfunction

  always @(posedge clk)
    if (en) crc <= step(crc, data);
endmodule
