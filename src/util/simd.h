/* simd: PPO_SIMD_CLONES builds a hot loop twice, for AVX2 and for any x86-64, the loader picking one
 * (GCC function multiversioning). The build keeps -ffp-contract=off, so both give the same bits. */
#ifndef PPO_UTIL_SIMD_H
#define PPO_UTIL_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__ELF__)
#define PPO_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PPO_SIMD_CLONES
#endif

#endif
