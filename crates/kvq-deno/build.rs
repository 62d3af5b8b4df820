//! Links the library with `-z nodelete` where the linker has it (ELF
//! platforms): jsr/ffi closes the library once its last store has closed,
//! so Deno's test sanitizers see nothing left open, but its completion
//! thread and the engine's threads may still be running code in it. With
//! the flag, `dlclose` leaves it mapped, and the next `Deno.dlopen` gets
//! the same library back, its statics and handles intact. (macOS never
//! unloads a library that has thread-local storage, as this one has.)

fn main() {
  let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
  if !matches!(os.as_str(), "macos" | "ios" | "windows") {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
  }
}
