// Read-address arbiter of the memory master: three clients (fetch, load, compute) share the AR channel
// round-robin through one output register, so AR is stable while it waits for ARREADY. Each client's ID
// goes out as ARID; read data is routed back by RID in the top. Clients see their request taken when
// their ready is high.
module vta_axi_rd_arb #(
  parameter int unsigned ADDR_W = 64,
  parameter int unsigned N      = 3
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic [N-1:0]            req_valid_i,
  output logic [N-1:0]            req_ready_o,
  input  logic [N*ADDR_W-1:0]     req_addr_i,   // client c at [c*ADDR_W +: ADDR_W]
  input  logic [N*8-1:0]          req_len_i,    // client c at [c*8 +: 8]
  output logic                    arvalid_o,
  input  logic                    arready_i,
  output logic [ADDR_W-1:0]       araddr_o,
  output logic [7:0]              arlen_o,
  output logic [$clog2(N)-1:0]    arid_o
);
  localparam int unsigned IW = $clog2(N);
  logic          valid_q;
  logic [IW-1:0] last_q, pick;
  logic          any, load;

  // round-robin: the first requesting client after the last one granted. last_q < N and k <= N, so
  // the wrap is one conditional subtraction (a `%` here would synthesize a divider).
  logic [IW:0] cand;
  always_comb begin
    any  = 1'b0;
    pick = last_q;
    cand = '0;
    for (int unsigned k = 1; k <= N; k++) begin
      cand = (IW + 1)'(last_q) + (IW + 1)'(k);
      if (cand >= (IW + 1)'(N)) cand = cand - (IW + 1)'(N);
      if (!any && req_valid_i[IW'(cand)]) begin
        any  = 1'b1;
        pick = IW'(cand);
      end
    end
  end

  // the picked client's request, as an AND-OR of the clients' (no index arithmetic on the way)
  logic [ADDR_W-1:0] addr_pick;
  logic [7:0]        len_pick;
  always_comb begin
    addr_pick = '0;
    len_pick  = '0;
    for (int unsigned c = 0; c < N; c++) begin
      if (pick == IW'(c)) begin
        addr_pick = addr_pick | req_addr_i[c * ADDR_W +: ADDR_W];
        len_pick  = len_pick | req_len_i[c * 8 +: 8];
      end
    end
  end

  assign load = any && (!valid_q || arready_i);
  always_comb begin
    req_ready_o = '0;
    if (load) req_ready_o[pick] = 1'b1;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q  <= 1'b0;
      last_q   <= IW'(N - 1);
      araddr_o <= '0;
      arlen_o  <= '0;
      arid_o   <= '0;
    end else begin
      if (load) begin
        valid_q  <= 1'b1;
        last_q   <= pick;
        araddr_o <= addr_pick;
        arlen_o  <= len_pick;
        arid_o   <= pick;
      end else if (arready_i) begin
        valid_q <= 1'b0;
      end
    end
  end
  assign arvalid_o = valid_q;
endmodule
