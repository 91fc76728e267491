// Figure output: atomic SVG writes and PNG through librsvg (optional).
#include "tools/plot/output.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_format.h"

#ifdef ONYX_HAVE_RSVG
#include <cairo.h>
#include <librsvg/rsvg.h>
#endif

namespace onyx::plot {
namespace {

std::string Lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Extension(const std::string& path) {
  return Lowercase(std::filesystem::path(path).extension().string());
}

// A sibling of `path` unique to this process, so the final rename stays on one
// file system and concurrent writers do not clash.
std::string TemporaryPath(const std::string& path) {
  return absl::StrFormat("%s.tmp%d", path, static_cast<int>(getpid()));
}

absl::Status RenameInto(const std::string& tmp, const std::string& path) {
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    return absl::InvalidArgumentError(
        absl::StrFormat("cannot write %s: %s", path, std::strerror(err)));
  }
  return absl::OkStatus();
}

#ifdef ONYX_HAVE_RSVG
absl::Status RasterizeToPng(const std::string& svg, const std::string& path) {
  GError* error = nullptr;
  RsvgHandle* handle =
      rsvg_handle_new_from_data(reinterpret_cast<const guint8*>(svg.data()), svg.size(), &error);
  if (handle == nullptr) {
    const std::string message = error ? error->message : "unknown error";
    if (error) g_error_free(error);
    return absl::InternalError(absl::StrFormat("librsvg cannot parse the figure: %s", message));
  }
  double width = 0, height = 0;
  if (!rsvg_handle_get_intrinsic_size_in_pixels(handle, &width, &height) || width < 1 ||
      height < 1 || width > 20000 || height > 20000) {
    g_object_unref(handle);
    return absl::InternalError(
        absl::StrFormat("figure has no usable pixel size (%g x %g)", width, height));
  }
  cairo_surface_t* surface = cairo_image_surface_create(
      CAIRO_FORMAT_ARGB32, static_cast<int>(std::ceil(width)), static_cast<int>(std::ceil(height)));
  cairo_t* cr = cairo_create(surface);
  const RsvgRectangle viewport{0, 0, width, height};
  const bool rendered = rsvg_handle_render_document(handle, cr, &viewport, &error);
  cairo_destroy(cr);
  g_object_unref(handle);
  absl::Status status;
  if (!rendered) {
    status = absl::InternalError(absl::StrFormat("librsvg cannot render the figure: %s",
                                                 error ? error->message : "unknown error"));
    if (error) g_error_free(error);
  } else {
    const std::string tmp = TemporaryPath(path);
    const cairo_status_t written = cairo_surface_write_to_png(surface, tmp.c_str());
    if (written != CAIRO_STATUS_SUCCESS) {
      std::remove(tmp.c_str());
      status = absl::InvalidArgumentError(
          absl::StrFormat("cannot write %s: %s", path, cairo_status_to_string(written)));
    } else {
      status = RenameInto(tmp, path);
    }
  }
  cairo_surface_destroy(surface);
  return status;
}
#endif

}  // namespace

bool PngSupported() {
#ifdef ONYX_HAVE_RSVG
  return true;
#else
  return false;
#endif
}

absl::Status CheckOutputPath(const std::string& path) {
  const std::string ext = Extension(path);
  if (ext == ".svg") return absl::OkStatus();
  if (ext == ".png") {
    if (PngSupported()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrFormat(
        "cannot write %s: this onyx was built without PNG support (librsvg2-dev was not found "
        "by CMake); write an .svg instead, or install librsvg2-dev and rebuild",
        path));
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("output %s must end in .svg or .png", path.empty() ? "\"\"" : path));
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  const std::string tmp = TemporaryPath(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.close();
    if (!out) {
      const int err = errno;
      std::remove(tmp.c_str());
      return absl::InvalidArgumentError(
          absl::StrFormat("cannot write %s: %s", path, std::strerror(err)));
    }
  }
  return RenameInto(tmp, path);
}

absl::Status WriteFigure(const std::string& svg, const std::string& path) {
  if (absl::Status ok = CheckOutputPath(path); !ok.ok()) return ok;
#ifdef ONYX_HAVE_RSVG
  if (Extension(path) == ".png") return RasterizeToPng(svg, path);
#endif
  return WriteFileAtomically(path, svg);
}

}  // namespace onyx::plot
