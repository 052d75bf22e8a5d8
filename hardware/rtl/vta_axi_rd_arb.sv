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

  // round-robin: the first requesting client after the last one granted, as a one-hot grant built from
  // constants only (for each possible last grant l, client c wins if it requests and none of the clients
  // between l and c does), so no index arithmetic sits between the requests and the grant
  logic [N-1:0] grant;
  logic         wins;
  always_comb begin
    grant = '0;
    wins  = 1'b0;
    for (int unsigned l = 0; l < N; l++) begin
      for (int unsigned c = 0; c < N; c++) begin
        wins = (last_q == IW'(l)) && req_valid_i[c];
        for (int unsigned k = 1; k < N; k++) begin
          if (k < ((c + N - l - 1) % N) + 1) wins = wins && !req_valid_i[(l + k) % N];
        end
        if (wins) grant[c] = 1'b1;
      end
    end
  end
  assign any = |req_valid_i;
  always_comb begin
    pick = '0;
    for (int unsigned c = 0; c < N; c++) if (grant[c]) pick = pick | IW'(c);
  end

  // the picked client's request, as an AND-OR of the clients' (no index arithmetic on the way)
  logic [ADDR_W-1:0] addr_pick;
  logic [7:0]        len_pick;
  always_comb begin
    addr_pick = '0;
    len_pick  = '0;
    for (int unsigned c = 0; c < N; c++) begin
      if (grant[c]) begin
        addr_pick = addr_pick | req_addr_i[c * ADDR_W +: ADDR_W];
        len_pick  = len_pick | req_len_i[c * 8 +: 8];
      end
    end
  end

  assign load = any && (!valid_q || arready_i);
  assign req_ready_o = load ? grant : '0;

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
