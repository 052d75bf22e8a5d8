// FPGA top of the VTA core: vta_top (hardware/rtl) with the port names that Vivado's IP packager infers
// as AXI interfaces and that Vitis requires of an RTL kernel: ap_clk, ap_rst_n, s_axi_control (registers,
// AXI4-Lite, 12-bit address), m_axi_gmem (memory, AXI4) and interrupt.
//
// Plain Verilog ports on purpose: the IP packager does not fully support a SystemVerilog top
// (IP_Flow 19-5101) and Vitis wants a Verilog-style port list on the kernel top.
//
// The core has no AxCACHE/AxPROT/AxLOCK/AxQOS; they are constants here, set per memory port by the flow
// (hardware/fpga/flow.py): a coherent port (Zynq-7000 ACP, ZynqMP HPC) needs AxCACHE[1] = 1 with the
// allocate bits (4'b1111), a non-coherent one takes 4'b0011 (normal, non-cacheable, bufferable).
//
// interrupt is the core's done_o: a level, high from the end of a run until the next start.
`default_nettype none

module vta_accel #(
  parameter integer BUS_W     = 64,   // memory data width, 64 or 128 (the core's BUS_W)
  parameter integer ADDR_W    = 64,   // memory address width (the core's ADDR_W): the port's width
  parameter integer AXI_CACHE = 3,    // AxCACHE of every memory request
  parameter integer AXI_PROT  = 0     // AxPROT of every memory request
) (
  input  wire                  ap_clk,
  input  wire                  ap_rst_n,
  // AXI4-Lite slave: the register map (docs/hardware.md)
  input  wire [11:0]           s_axi_control_awaddr,
  input  wire                  s_axi_control_awvalid,
  output wire                  s_axi_control_awready,
  input  wire [31:0]           s_axi_control_wdata,
  input  wire [3:0]            s_axi_control_wstrb,
  input  wire                  s_axi_control_wvalid,
  output wire                  s_axi_control_wready,
  output wire [1:0]            s_axi_control_bresp,
  output wire                  s_axi_control_bvalid,
  input  wire                  s_axi_control_bready,
  input  wire [11:0]           s_axi_control_araddr,
  input  wire                  s_axi_control_arvalid,
  output wire                  s_axi_control_arready,
  output wire [31:0]           s_axi_control_rdata,
  output wire [1:0]            s_axi_control_rresp,
  output wire                  s_axi_control_rvalid,
  input  wire                  s_axi_control_rready,
  // AXI4 master: memory
  output wire [1:0]            m_axi_gmem_awid,
  output wire [ADDR_W-1:0]     m_axi_gmem_awaddr,
  output wire [7:0]            m_axi_gmem_awlen,
  output wire [2:0]            m_axi_gmem_awsize,
  output wire [1:0]            m_axi_gmem_awburst,
  output wire                  m_axi_gmem_awlock,
  output wire [3:0]            m_axi_gmem_awcache,
  output wire [2:0]            m_axi_gmem_awprot,
  output wire [3:0]            m_axi_gmem_awqos,
  output wire                  m_axi_gmem_awvalid,
  input  wire                  m_axi_gmem_awready,
  output wire [BUS_W-1:0]      m_axi_gmem_wdata,
  output wire [BUS_W/8-1:0]    m_axi_gmem_wstrb,
  output wire                  m_axi_gmem_wlast,
  output wire                  m_axi_gmem_wvalid,
  input  wire                  m_axi_gmem_wready,
  input  wire [1:0]            m_axi_gmem_bid,
  input  wire [1:0]            m_axi_gmem_bresp,
  input  wire                  m_axi_gmem_bvalid,
  output wire                  m_axi_gmem_bready,
  output wire [1:0]            m_axi_gmem_arid,
  output wire [ADDR_W-1:0]     m_axi_gmem_araddr,
  output wire [7:0]            m_axi_gmem_arlen,
  output wire [2:0]            m_axi_gmem_arsize,
  output wire [1:0]            m_axi_gmem_arburst,
  output wire                  m_axi_gmem_arlock,
  output wire [3:0]            m_axi_gmem_arcache,
  output wire [2:0]            m_axi_gmem_arprot,
  output wire [3:0]            m_axi_gmem_arqos,
  output wire                  m_axi_gmem_arvalid,
  input  wire                  m_axi_gmem_arready,
  input  wire [1:0]            m_axi_gmem_rid,
  input  wire [BUS_W-1:0]      m_axi_gmem_rdata,
  input  wire [1:0]            m_axi_gmem_rresp,
  input  wire                  m_axi_gmem_rlast,
  input  wire                  m_axi_gmem_rvalid,
  output wire                  m_axi_gmem_rready,
  // run finished (STATUS.done)
  output wire                  interrupt
);

  localparam [3:0] CACHE = AXI_CACHE[3:0];
  localparam [2:0] PROT  = AXI_PROT[2:0];

  assign m_axi_gmem_awlock  = 1'b0;
  assign m_axi_gmem_awcache = CACHE;
  assign m_axi_gmem_awprot  = PROT;
  assign m_axi_gmem_awqos   = 4'd0;
  assign m_axi_gmem_arlock  = 1'b0;
  assign m_axi_gmem_arcache = CACHE;
  assign m_axi_gmem_arprot  = PROT;
  assign m_axi_gmem_arqos   = 4'd0;

  vta_top #(.BUS_W(BUS_W), .ADDR_W(ADDR_W)) u_core (
    .clk_i            (ap_clk),
    .rst_ni           (ap_rst_n),
    .s_axil_awvalid_i (s_axi_control_awvalid),
    .s_axil_awready_o (s_axi_control_awready),
    .s_axil_awaddr_i  (s_axi_control_awaddr),
    .s_axil_wvalid_i  (s_axi_control_wvalid),
    .s_axil_wready_o  (s_axi_control_wready),
    .s_axil_wdata_i   (s_axi_control_wdata),
    .s_axil_wstrb_i   (s_axi_control_wstrb),
    .s_axil_bvalid_o  (s_axi_control_bvalid),
    .s_axil_bready_i  (s_axi_control_bready),
    .s_axil_bresp_o   (s_axi_control_bresp),
    .s_axil_arvalid_i (s_axi_control_arvalid),
    .s_axil_arready_o (s_axi_control_arready),
    .s_axil_araddr_i  (s_axi_control_araddr),
    .s_axil_rvalid_o  (s_axi_control_rvalid),
    .s_axil_rready_i  (s_axi_control_rready),
    .s_axil_rdata_o   (s_axi_control_rdata),
    .s_axil_rresp_o   (s_axi_control_rresp),
    .m_axi_arvalid_o  (m_axi_gmem_arvalid),
    .m_axi_arready_i  (m_axi_gmem_arready),
    .m_axi_arid_o     (m_axi_gmem_arid),
    .m_axi_araddr_o   (m_axi_gmem_araddr),
    .m_axi_arlen_o    (m_axi_gmem_arlen),
    .m_axi_arsize_o   (m_axi_gmem_arsize),
    .m_axi_arburst_o  (m_axi_gmem_arburst),
    .m_axi_rvalid_i   (m_axi_gmem_rvalid),
    .m_axi_rready_o   (m_axi_gmem_rready),
    .m_axi_rid_i      (m_axi_gmem_rid),
    .m_axi_rdata_i    (m_axi_gmem_rdata),
    .m_axi_rresp_i    (m_axi_gmem_rresp),
    .m_axi_rlast_i    (m_axi_gmem_rlast),
    .m_axi_awvalid_o  (m_axi_gmem_awvalid),
    .m_axi_awready_i  (m_axi_gmem_awready),
    .m_axi_awid_o     (m_axi_gmem_awid),
    .m_axi_awaddr_o   (m_axi_gmem_awaddr),
    .m_axi_awlen_o    (m_axi_gmem_awlen),
    .m_axi_awsize_o   (m_axi_gmem_awsize),
    .m_axi_awburst_o  (m_axi_gmem_awburst),
    .m_axi_wvalid_o   (m_axi_gmem_wvalid),
    .m_axi_wready_i   (m_axi_gmem_wready),
    .m_axi_wdata_o    (m_axi_gmem_wdata),
    .m_axi_wstrb_o    (m_axi_gmem_wstrb),
    .m_axi_wlast_o    (m_axi_gmem_wlast),
    .m_axi_bvalid_i   (m_axi_gmem_bvalid),
    .m_axi_bready_o   (m_axi_gmem_bready),
    .m_axi_bid_i      (m_axi_gmem_bid),
    .m_axi_bresp_i    (m_axi_gmem_bresp),
    .done_o           (interrupt)
  );

endmodule

`default_nettype wire
