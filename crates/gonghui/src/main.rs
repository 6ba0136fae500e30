// mimalloc, also overriding the C allocator SQLite uses: allocation was a
// quarter of a bulk import's profile with glibc malloc (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    gonghui::cli::main()
}
