// Build tool of the CUDA emulator: copies a .cu file to a host C++ file, turning
// every kernel launch `Kernel<T><<<grid, block, shared, stream>>>(args);` into
// `(::onyx_emu::CheckKernelArgs("Kernel<T>", args),
//   ::onyx_emu::Launch([&] { Kernel<T>(args); }, grid, block, shared, stream));`.
// The rest of the text is copied unchanged; a #line directive keeps compiler
// messages pointing at the .cu file.
//
// Usage: launch_rewrite IN.cu OUT.cc
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace {

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}

// Start of the kernel expression that ends just before `end`: a name,
// optionally followed by template arguments (balanced <> and ()).
size_t KernelStart(const std::string& text, size_t end) {
  size_t i = end;
  while (i > 0 && std::isspace(static_cast<unsigned char>(text[i - 1]))) --i;
  if (i > 0 && text[i - 1] == '>') {
    int angle = 0;
    int paren = 0;
    while (i > 0) {
      const char c = text[--i];
      if (c == ')') ++paren;
      if (c == '(') --paren;
      if (paren == 0 && c == '>') ++angle;
      if (paren == 0 && c == '<' && --angle == 0) break;
    }
  }
  while (i > 0 && IsNameChar(text[i - 1])) --i;
  return i;
}

// Index of the ')' that closes the '(' at `open`; npos if unbalanced.
size_t MatchingParen(const std::string& text, size_t open) {
  int depth = 0;
  for (size_t i = open; i < text.size(); ++i) {
    if (text[i] == '(') ++depth;
    if (text[i] == ')' && --depth == 0) return i;
  }
  return std::string::npos;
}

bool Rewrite(const std::string& in, std::string* out, std::string* error) {
  size_t copied = 0;
  for (size_t launch = in.find("<<<"); launch != std::string::npos;
       launch = in.find("<<<", copied)) {
    const size_t kernel_begin = KernelStart(in, launch);
    const size_t config_end = in.find(">>>", launch);
    size_t open = config_end == std::string::npos ? config_end : config_end + 3;
    while (open < in.size() && std::isspace(static_cast<unsigned char>(in[open]))) ++open;
    const size_t close =
        open < in.size() && in[open] == '(' ? MatchingParen(in, open) : std::string::npos;
    if (kernel_begin == launch || close == std::string::npos) {
      *error = "cannot parse the kernel launch at offset " + std::to_string(launch);
      return false;
    }
    const std::string kernel = in.substr(kernel_begin, launch - kernel_begin);
    const std::string args = in.substr(open + 1, close - open - 1);
    const bool no_args = args.find_first_not_of(" \t\r\n") == std::string::npos;
    out->append(in, copied, kernel_begin - copied);
    // The arguments are checked (pointers must be device memory), then the
    // grid runs: one expression, so the launch may stand where a statement
    // or a macro argument does.
    out->append("(::onyx_emu::CheckKernelArgs(\"");
    for (char c : kernel) out->push_back(std::isspace(static_cast<unsigned char>(c)) ? ' ' : c);
    out->append("\"");
    if (!no_args) out->append(", " + args);
    out->append("), ::onyx_emu::Launch([&] { " + kernel + "(" + args + "); }, ");
    out->append(in, launch + 3, config_end - launch - 3);
    out->append("))");
    copied = close + 1;
  }
  out->append(in, copied, std::string::npos);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: launch_rewrite IN.cu OUT.cc\n";
    return 2;
  }
  std::ifstream file(argv[1], std::ios::binary);
  if (!file) {
    std::cerr << "launch_rewrite: cannot read " << argv[1] << "\n";
    return 1;
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  std::string out = "#line 1 \"" + std::string(argv[1]) + "\"\n";
  std::string error;
  if (!Rewrite(buffer.str(), &out, &error)) {
    std::cerr << "launch_rewrite: " << argv[1] << ": " << error << "\n";
    return 1;
  }
  std::ofstream result(argv[2], std::ios::binary);
  result << out;
  return result ? 0 : 1;
}
