/* C ABI mirroring Apache VTA's runtime calls, implemented on top of vta::runtime::CommandQueue.
 * The device is chosen by the environment: VTA_TARGET (default "fsim") and VTA_CONFIG (a config JSON
 * path; default: VTA's default config). */
#ifndef VTA_RUNTIME_VTA_RUNTIME_H_
#define VTA_RUNTIME_VTA_RUNTIME_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void* VTACommandHandle;

/* Memory copy kinds for VTABufferCopy. */
#define VTA_MEMCPY_H2D 1
#define VTA_MEMCPY_D2H 2
#define VTA_MEMCPY_D2D 3

/* Dependency queue ids (pipeline stages). */
#define VTA_STAGE_LOAD 1
#define VTA_STAGE_COMPUTE 2
#define VTA_STAGE_STORE 3

/* Every call that can fail returns 0 on success, -1 on error; VTAGetLastError() says why. */
const char* VTAGetLastError(void);

void* VTABufferAlloc(size_t size);
void VTABufferFree(void* buffer);
int VTABufferCopy(const void* from, size_t from_offset, void* to, size_t to_offset, size_t size, int kind_mask);
void* VTABufferCPUPtr(VTACommandHandle cmd, void* buffer);
uint64_t VTABufferPhysAddr(void* buffer);

VTACommandHandle VTATLSCommandHandle(void);
void VTARuntimeShutdown(void);

int VTALoadBuffer2D(VTACommandHandle cmd, void* src_dram_addr, uint32_t src_elem_offset, uint32_t x_size,
                    uint32_t y_size, uint32_t x_stride, uint32_t x_pad_before, uint32_t y_pad_before,
                    uint32_t x_pad_after, uint32_t y_pad_after, uint32_t dst_sram_index,
                    uint32_t dst_memory_type);
int VTAStoreBuffer2D(VTACommandHandle cmd, uint32_t src_sram_index, uint32_t src_memory_type,
                     void* dst_dram_addr, uint32_t dst_elem_offset, uint32_t x_size, uint32_t y_size,
                     uint32_t x_stride);

/* Micro-op kernel recording, valid only inside the finit callback of VTAPushGEMMOp/VTAPushALUOp. */
int VTAUopPush(uint32_t mode, uint32_t reset_out, uint32_t dst_index, uint32_t src_index, uint32_t wgt_index,
               uint32_t opcode, uint32_t use_imm, int32_t imm_val);
int VTAUopLoopBegin(uint32_t extent, uint32_t dst_factor, uint32_t src_factor, uint32_t wgt_factor);
int VTAUopLoopEnd(void);

/* Records the kernel by calling finit(signature) once per distinct signature (cached in *uop_handle),
 * then pushes the GEMM/ALU instruction. */
int VTAPushGEMMOp(void** uop_handle, int (*finit)(void*), void* signature, int nbytes);
int VTAPushALUOp(void** uop_handle, int (*finit)(void*), void* signature, int nbytes);

int VTADepPush(VTACommandHandle cmd, int from_qid, int to_qid);
int VTADepPop(VTACommandHandle cmd, int from_qid, int to_qid);

/* Runs everything queued; wait_cycles bounds the wait (interpreted as a timeout budget). */
int VTASynchronize(VTACommandHandle cmd, uint32_t wait_cycles);

#ifdef __cplusplus
}
#endif

#endif /* VTA_RUNTIME_VTA_RUNTIME_H_ */
