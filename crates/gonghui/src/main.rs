fn main() -> std::process::ExitCode {
    gonghui::cli::main()
}
