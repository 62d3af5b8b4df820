/*
 * ProcessPrng, the one function of Windows 10's bcryptprimitives.dll that
 * Rust's standard library imports (for its random hash keys), built for the
 * wine prefix of scripts/dist_tools.sh: wine 8.0 has no such DLL, and
 * without it no Rust library built for Windows 10 loads there. It asks
 * bcrypt's system RNG, which wine has, for the same bytes.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
    if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) {
      return FALSE;
    }
    data += chunk;
    len -= chunk;
  }
  return TRUE;
}
