#include "VideoRecorder.h"

#include "neco/core/Error.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QPainter>

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include <cstring>

namespace neco::ui {

namespace {

constexpr int kMinSide = 16;
constexpr int kMaxWidth = 7680, kMaxHeight = 4320;

std::string str(const QString& s) { return s.toStdString(); }

// A hidden name next to `path` that no file has: `.name.ext.<tag><end>`, `.name.ext.<tag>2<end>`, …
QString unusedSibling(const QString& path, const QString& tag, const QString& end = {}) {
  const QFileInfo info(path);
  const QString base = info.dir().filePath(QLatin1Char('.') + info.fileName() + QLatin1Char('.') + tag);
  QString candidate = base + end;
  for (int i = 2; QFileInfo::exists(candidate); ++i) candidate = base + QString::number(i) + end;
  return candidate;
}

}  // namespace

VideoRecorder::VideoRecorder(const QString& path, QSize frameSize, double fps)
    : path_(QFileInfo(path).absoluteFilePath()),
      size_(frameSize.width() / 2 * 2, frameSize.height() / 2 * 2),
      writer_(std::make_unique<cv::VideoWriter>()) {
  const QFileInfo info(path_);
  const QString suffix = info.suffix().toLower();
  int fourcc = 0, api = 0;
  if (suffix == QLatin1String("avi")) {
    fourcc = cv::VideoWriter::fourcc('M', 'J', 'P', 'G');
    api = cv::CAP_OPENCV_MJPEG;
  } else if (suffix == QLatin1String("mp4")) {
    fourcc = cv::VideoWriter::fourcc('m', 'p', '4', 'v');
    api = cv::CAP_FFMPEG;
  } else {
    throw InvalidArgumentError(str(path) + ": a video is .avi (Motion-JPEG) or .mp4 (MPEG-4)");
  }
  if (!(fps > 0.0 && fps <= 120.0)) throw InvalidArgumentError(str(path) + ": frame rate must be in (0, 120]");
  if (size_.width() < kMinSide || size_.height() < kMinSide || size_.width() > kMaxWidth || size_.height() > kMaxHeight) {
    throw InvalidArgumentError(str(path) + ": frame size " + std::to_string(frameSize.width()) + " x " +
                               std::to_string(frameSize.height()) + " is outside 16 x 16 .. 7680 x 4320");
  }
  if (!info.dir().exists()) throw IoError(str(path_), "the folder does not exist");
  // The container is chosen from the extension, so it stays last.
  partial_ = unusedSibling(path_, QStringLiteral("recording"), QLatin1Char('.') + suffix);
  if (!writer_->open(str(partial_), api, fourcc, fps, cv::Size(size_.width(), size_.height()))) {
    QFile::remove(partial_);
    throw IoError(str(path_), "cannot write a video there (read-only folder, or no encoder for ." + str(suffix) + ")");
  }
}

VideoRecorder::~VideoRecorder() {
  if (finished_) return;
  writer_->release();
  QFile::remove(partial_);
}

void VideoRecorder::addFrame(const QImage& frame) {
  if (finished_) throw InvalidArgumentError(str(path_) + ": the recording is finished");
  if (frame.isNull()) throw InvalidArgumentError(str(path_) + ": an empty frame");
  QImage canvas(size_, QImage::Format_RGB888);
  canvas.fill(Qt::black);
  {
    QPainter p(&canvas);
    p.setRenderHint(QPainter::SmoothPixmapTransform);
    const QSize fitted = frame.size().scaled(size_, Qt::KeepAspectRatio);  // device pixels, any ratio
    p.drawImage(QRect(QPoint((size_.width() - fitted.width()) / 2, (size_.height() - fitted.height()) / 2), fitted),
                frame, frame.rect());
  }
  const QImage bgr = canvas.convertToFormat(QImage::Format_BGR888);
  // A view over Qt's rows (they may be padded): VideoWriter copies what it encodes.
  const cv::Mat mat(bgr.height(), bgr.width(), CV_8UC3, const_cast<uchar*>(bgr.constBits()),
                    static_cast<std::size_t>(bgr.bytesPerLine()));
  writer_->write(mat);
  ++frames_;
}

void VideoRecorder::finish() {
  if (finished_) return;
  if (frames_ == 0) throw InvalidArgumentError(str(path_) + ": nothing was recorded");
  writer_->release();
  finished_ = true;
  // NOTE: the earlier file goes only once the new one is complete, and comes back if the move fails.
  const QString previous = unusedSibling(path_, QStringLiteral("replaced"));
  const bool hadPrevious = QFileInfo::exists(path_);
  if (hadPrevious) {
    if (!QFile::rename(path_, previous)) {
      QFile::remove(partial_);
      throw IoError(str(path_), "cannot replace the existing file");
    }
  }
  if (!QFile::rename(partial_, path_)) {
    QFile::remove(partial_);
    if (hadPrevious) QFile::rename(previous, path_);
    throw IoError(str(path_), "cannot move the finished video into place");
  }
  if (hadPrevious) QFile::remove(previous);
}

}  // namespace neco::ui
