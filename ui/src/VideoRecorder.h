#pragma once
// Writes a view's frames to a video with OpenCV's VideoWriter: `.avi` as Motion-JPEG (OpenCV's own
// encoder, in every build), `.mp4` as MPEG-4 part 2 ('mp4v', through FFmpeg). Frames go to a hidden
// sibling file that replaces `path` only when finish() succeeds, so a failed or cancelled recording
// leaves no half-written video and never touches an earlier file of that name until the end.
//
// Typical use:
//   VideoRecorder video(path, view->size(), 8.0);  // the frame size is fixed here
//   for (...) video.addFrame(view->grab().toImage());
//   video.finish();

#include <QImage>
#include <QSize>
#include <QString>

#include <memory>

namespace cv {
class VideoWriter;
}

namespace neco::ui {

class VideoRecorder {
 public:
  /// Opens the hidden sibling of `path` for `frameSize` (rounded down to even sides, as encoders
  /// want) at `fps` frames per second. Throws InvalidArgumentError (an extension other than .avi /
  /// .mp4, fps outside (0, 120], a frame smaller than 16 x 16 or larger than 7680 x 4320) and
  /// IoError (the folder is missing or not writable, or no encoder opened).
  VideoRecorder(const QString& path, QSize frameSize, double fps);
  /// An unfinished recording is discarded: the hidden file is removed. Never throws.
  ~VideoRecorder();
  VideoRecorder(const VideoRecorder&) = delete;
  VideoRecorder& operator=(const VideoRecorder&) = delete;

  /// Appends `frame`, scaled into the frame size with its aspect kept (black bars). Throws
  /// InvalidArgumentError for a null image or after finish().
  void addFrame(const QImage& frame);
  /// Closes the file and moves it to `path`, replacing an earlier file there. Throws
  /// InvalidArgumentError (no frame was added; nothing is written) and IoError (the move failed;
  /// the earlier file is kept).
  void finish();

  int frameCount() const noexcept { return frames_; }
  QSize frameSize() const noexcept { return size_; }
  const QString& path() const noexcept { return path_; }

 private:
  QString path_;
  QString partial_;
  QSize size_;
  std::unique_ptr<cv::VideoWriter> writer_;
  int frames_ = 0;
  bool finished_ = false;
};

}  // namespace neco::ui
