// Layout analysis on generated pages of known text: line boxes, reading order, deskew, tables, pictures.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>
#include <tuple>

#include "infer/layout.h"
#include "test_infer_fixtures.h"

using namespace ocrkit;
using namespace ocrkit::test;

namespace {

// Boxes of the layout's lines in the analysed image's coordinates.
std::vector<cv::Rect> source_boxes(const infer::PageLayout& layout) {
  std::vector<cv::Rect> boxes;
  for (auto& l : layout.lines) boxes.push_back(cv::Rect(layout.source_box(l.box)));
  return boxes;
}

// Every truth line is found once, in order, with IoU >= min_iou.
void expect_lines_match(const GeneratedPage& page, const std::vector<cv::Rect>& found, double min_iou) {
  ASSERT_EQ(found.size(), page.lines.size());
  for (size_t i = 0; i < found.size(); ++i)
    EXPECT_GE(iou(found[i], page.lines[i].box), min_iou)
        << "line " << i << " '" << page.lines[i].text << "' truth " << page.lines[i].box << " found " << found[i];
}

}  // namespace

TEST(InferLayout, TwoColumnsInReadingOrder) {
  PageSpec spec;
  auto page = make_page(spec);
  auto layout = infer::analyze_page(page.image);
  EXPECT_EQ(layout.angle, 0);
  expect_lines_match(page, source_boxes(layout), 0.85);
}

TEST(InferLayout, ThreeColumnsWithTitleAndAlignedParagraphs) {
  PageSpec spec;
  spec.columns = 3;
  spec.column_gap = 60;
  spec.font_px = 24;
  spec.line_step = 38;
  spec.paragraph_every = 5;  // paragraph breaks at the same height in every column
  spec.title = "A full width title over three columns";
  auto page = make_page(spec);
  auto layout = infer::analyze_page(page.image);
  expect_lines_match(page, source_boxes(layout), 0.85);
  // Paragraphs: the title, then 4 per column.
  EXPECT_EQ(layout.lines.back().paragraph, 12);
}

TEST(InferLayout, SingleColumnLines) {
  PageSpec spec;
  spec.columns = 1;
  spec.lines_per_column = 30;
  auto page = make_page(spec);
  auto layout = infer::analyze_page(page.image);
  expect_lines_match(page, source_boxes(layout), 0.85);
}

TEST(InferLayout, DeskewsARotatedPage) {
  PageSpec spec;
  auto page = make_page(spec);
  for (double angle : {1.5, -2.2, 0.7}) {
    auto rotated = rotate_page(page, angle);
    auto layout = infer::analyze_page(rotated.image);
    EXPECT_NEAR(layout.angle, angle, 0.3);
    // Lines are found in order; their boxes (mapped back) cover the rotated truth boxes.
    auto found = source_boxes(layout);
    ASSERT_EQ(found.size(), rotated.lines.size()) << "angle " << angle;
    for (size_t i = 0; i < found.size(); ++i) EXPECT_GE(iou(found[i], rotated.lines[i].box), 0.7) << "line " << i;
  }
}

TEST(InferLayout, DeskewingLeavesTheInputImageAlone) {
  PageSpec spec;
  cv::Mat img = rotate_page(make_page(spec), 1.2).image, copy = img.clone();
  auto layout = infer::analyze_page(img);
  EXPECT_NE(layout.angle, 0);
  EXPECT_EQ(cv::countNonZero(img != copy), 0);
  EXPECT_NE(layout.straight.data, img.data);
}

TEST(InferLayout, BlankPageHasNoLines) {
  cv::Mat white(800, 600, CV_8UC1, cv::Scalar(255));
  auto layout = infer::analyze_page(white);
  EXPECT_TRUE(layout.lines.empty());
  EXPECT_EQ(layout.angle, 0);
}

TEST(InferLayout, RuledTableCellsAndPicture) {
  PageSpec spec;
  spec.columns = 1;
  spec.lines_per_column = 3;
  auto page = make_page(spec);
  cv::Mat img = page.image.clone();
  // A 3x2 ruled table below the text.
  int x0 = 200, y0 = 500, cw = 400, rh = 70;
  for (int r = 0; r <= 3; ++r) cv::line(img, {x0, y0 + r * rh}, {x0 + 2 * cw, y0 + r * rh}, cv::Scalar(0), 3);
  for (int c = 0; c <= 2; ++c) cv::line(img, {x0 + c * cw, y0}, {x0 + c * cw, y0 + 3 * rh}, cv::Scalar(0), 3);
  const char* cells[3][2] = {{"name", "value"}, {"alpha", "42"}, {"beta", "2026"}};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 2; ++c) {
      cv::Mat line = render_line(cells[r][c], 28, 0);
      line.copyTo(img(cv::Rect(x0 + c * cw + 20, y0 + r * rh + 15, line.cols, line.rows)));
    }
  // A picture: a filled blob with texture.
  cv::Rect pic(300, 900, 500, 400);
  cv::rectangle(img, pic, cv::Scalar(60), cv::FILLED);
  cv::circle(img, {550, 1100}, 120, cv::Scalar(200), cv::FILLED);
  auto layout = infer::analyze_page(img);
  ASSERT_EQ(layout.tables.size(), 1u);
  EXPECT_EQ(layout.tables[0].n_rows(), 3);
  EXPECT_EQ(layout.tables[0].n_cols(), 2);
  int in_table = 0;
  for (auto& l : layout.lines)
    if (l.table == 0) ++in_table;
  EXPECT_EQ(in_table, 6);
  // Text lines come first, then the table's cells row by row.
  ASSERT_EQ(layout.lines.size(), 9u);
  EXPECT_EQ(layout.lines[3].row, 0);
  EXPECT_EQ(layout.lines[3].col, 0);
  EXPECT_EQ(layout.lines[4].col, 1);
  EXPECT_EQ(layout.lines[8].row, 2);
  ASSERT_EQ(layout.pictures.size(), 1u);
  EXPECT_GE(iou(layout.pictures[0], pic), 0.9);
}

TEST(InferLayout, TightLeadingWithTouchingGlyphs) {
  PageSpec spec;
  spec.columns = 2;
  spec.line_step = 26;  // 28 px font: descenders of one line touch the ascenders of the next
  spec.lines_per_column = 30;
  auto page = make_page(spec);
  auto layout = infer::analyze_page(page.image);
  expect_lines_match(page, source_boxes(layout), 0.8);
}

TEST(InferLayout, RowsOfDotsAreLinesOtherFlatMarksAreNot) {
  PageSpec spec;
  spec.columns = 1;
  spec.lines_per_column = 10;
  auto page = make_page(spec);
  // Below the text: an ellipsis set wide (". . ." on a line of its own: gaps wider than a column gap),
  // then a row of dashes and a row of unevenly spaced specks, all flatter than text.
  const int y = page.lines.back().box.br().y + 60;
  for (int x : {200, 240, 280}) cv::rectangle(page.image, cv::Rect(x, y, 5, 5), cv::Scalar(0), cv::FILLED);
  for (int x : {200, 260, 320}) cv::rectangle(page.image, cv::Rect(x, y + 80, 30, 4), cv::Scalar(0), cv::FILLED);
  for (int x : {200, 225, 280}) cv::rectangle(page.image, cv::Rect(x, y + 160, 5, 5), cv::Scalar(0), cv::FILLED);
  auto layout = infer::analyze_page(page.image);
  auto found = source_boxes(layout);
  ASSERT_EQ(found.size(), page.lines.size() + 1);
  found.pop_back();
  expect_lines_match(page, found, 0.85);
  // The dots' line spans them and has a text line's height above their baseline.
  const cv::Rect dots = cv::Rect(source_boxes(layout).back());
  EXPECT_LE(dots.x, 200);
  EXPECT_GE(dots.br().x, 285);
  EXPECT_GE(dots.br().y, y + 5);
  EXPECT_GE(dots.height, page.lines.back().box.height / 2);
}

TEST(InferLayout, SauvolaHandlesUnevenLighting) {
  PageSpec spec;
  spec.columns = 1;
  auto page = make_page(spec);
  // A shadow: the background falls from white to dark grey across the page, ink stays darker.
  cv::Mat shaded(page.image.size(), CV_8UC1);
  for (int y = 0; y < shaded.rows; ++y)
    for (int x = 0; x < shaded.cols; ++x) {
      double light = 1.0 - 0.6 * x / shaded.cols;
      shaded.at<uint8_t>(y, x) = cv::saturate_cast<uint8_t>(page.image.at<uint8_t>(y, x) * light);
    }
  EXPECT_TRUE(infer::uneven_background(shaded));
  EXPECT_FALSE(infer::uneven_background(page.image));
  for (const char* method : {"sauvola", "auto"}) {
    infer::LayoutOptions o;
    o.binarize = method;
    auto layout = infer::analyze_page(shaded, o);
    expect_lines_match(page, source_boxes(layout), 0.8);
  }
}

TEST(InferLayout, AutoKeepsFaintTextOnNoisyPages) {
  // Black text in the left column, light gray text (hyperlink-like: black -> 191) in the right one.
  PageSpec spec;
  auto page = make_page(spec);
  cv::Mat right = page.image.colRange(page.image.cols / 2, page.image.cols);
  right.convertTo(right, CV_8U, 0.25, 255 * 0.75);
  // Clean, the paper is one gray level: auto is Otsu exactly (which loses the gray column, as before).
  EXPECT_EQ(cv::countNonZero(infer::binarize(page.image, "auto") != infer::binarize(page.image, "otsu")), 0);
  // A degraded copy: blur, paper at 245 and noise put the gray strokes above Otsu's threshold.
  cv::Mat img, noise(page.image.size(), CV_16S);
  cv::GaussianBlur(page.image, img, cv::Size(3, 3), 0.8);
  img.convertTo(img, CV_16S, 245.0 / 255);
  cv::RNG(3).fill(noise, cv::RNG::NORMAL, 0, 4);
  img += noise;
  img.convertTo(img, CV_8U);
  infer::LayoutOptions otsu;
  otsu.binarize = "otsu";
  EXPECT_EQ(infer::analyze_page(img, otsu).lines.size(), size_t(spec.lines_per_column));  // the black column only
  expect_lines_match(page, source_boxes(infer::analyze_page(img)), 0.85);
}

TEST(InferLayout, HorizontallyRuledRowsReadRowByRow) {
  // A definition table ruled only between rows (plus one vertical rule): term | two-line description.
  cv::Mat img(1000, 1400, CV_8UC1, cv::Scalar(255));
  const char* terms[] = {"apt update", "apt install", "apt remove"};
  const char* descriptions[][2] = {{"Update package listings", "from repositories"},
                                   {"Install packages", "with their dependencies"},
                                   {"Remove packages", "and keep their settings"}};
  std::vector<std::string> expected;
  int y = 100;
  for (int r = 0; r < 3; ++r) {
    cv::line(img, {100, y}, {1300, y}, cv::Scalar(0), 2);
    cv::Mat term = render_line(terms[r], 28, 0);
    term.copyTo(img(cv::Rect(120, y + 40, term.cols, term.rows)));
    expected.push_back(terms[r]);
    for (int k = 0; k < 2; ++k) {
      cv::Mat d = render_line(descriptions[r][k], 28, 0);
      d.copyTo(img(cv::Rect(560, y + 20 + 45 * k, d.cols, d.rows)));
      expected.push_back(descriptions[r][k]);
    }
    y += 130;
  }
  cv::line(img, {100, y}, {1300, y}, cv::Scalar(0), 2);
  cv::line(img, {520, 100}, {520, y}, cv::Scalar(0), 2);
  auto layout = infer::analyze_page(img);
  ASSERT_EQ(layout.lines.size(), expected.size());
  // Row by row: the term, then its description's two lines.
  for (int r = 0; r < 3; ++r) {
    EXPECT_LT(layout.lines[size_t(3 * r)].box.x, 520) << r;
    EXPECT_GT(layout.lines[size_t(3 * r + 1)].box.x, 520) << r;
    EXPECT_LT(layout.lines[size_t(3 * r + 1)].box.y, layout.lines[size_t(3 * r + 2)].box.y) << r;
    if (r > 0) EXPECT_GT(layout.lines[size_t(3 * r)].box.y, layout.lines[size_t(3 * r - 1)].box.y) << r;
  }
}

TEST(InferLayout, ScanLikeDegradation) {
  PageSpec spec;
  auto page = rotate_page(make_page(spec), 1.0);
  cv::Mat img;
  cv::GaussianBlur(page.image, img, cv::Size(3, 3), 0.8);
  cv::Mat noise(img.size(), CV_16S);
  cv::randn(noise, 0, 12);
  img.convertTo(img, CV_16S);
  img += noise;
  img.convertTo(img, CV_8U);
  std::vector<uint8_t> jpeg;
  cv::imencode(".jpg", img, jpeg, {cv::IMWRITE_JPEG_QUALITY, 40});
  img = cv::imdecode(jpeg, cv::IMREAD_GRAYSCALE);
  auto layout = infer::analyze_page(img);
  EXPECT_NEAR(layout.angle, 1.0, 0.3);
  auto found = source_boxes(layout);
  ASSERT_EQ(found.size(), page.lines.size());
  for (size_t i = 0; i < found.size(); ++i) EXPECT_GE(iou(found[i], page.lines[i].box), 0.7) << "line " << i;
}

TEST(InferLayout, LongRunsEqualTheLineOpeningAwayFromTheBorder) {
  cv::Mat ink(120, 160, CV_8U);
  cv::RNG rng(7);
  rng.fill(ink, cv::RNG::UNIFORM, 0, 2);
  ink *= 255;
  cv::line(ink, {10, 30}, {150, 30}, cv::Scalar(255), 2);  // rules among the noise
  cv::line(ink, {40, 5}, {40, 115}, cv::Scalar(255), 1);
  ink.row(0).setTo(0), ink.row(ink.rows - 1).setTo(0), ink.col(0).setTo(0), ink.col(ink.cols - 1).setTo(0);
  for (int len : {3, 7, 15}) {
    for (bool horizontal : {true, false}) {
      cv::Mat opened;
      cv::morphologyEx(ink, opened, cv::MORPH_OPEN,
                       cv::getStructuringElement(cv::MORPH_RECT, horizontal ? cv::Size(len, 1) : cv::Size(1, len)));
      EXPECT_EQ(cv::countNonZero(opened != infer::long_runs(ink, len, horizontal)), 0) << len << (horizontal ? " h" : " v");
    }
  }
  // The rules survive a long opening (with whatever noise touches their ends), the noise does not.
  cv::Mat h = infer::long_runs(ink, 100, true), v = infer::long_runs(ink, 100, false);
  EXPECT_GE(cv::countNonZero(h.row(30)), 141);
  EXPECT_GE(cv::countNonZero(v.col(40)), 111);
  EXPECT_EQ(cv::countNonZero(h), cv::countNonZero(h.rowRange(29, 32)));
  EXPECT_EQ(cv::countNonZero(v), cv::countNonZero(v.col(40)));
}

TEST(InferLayout, OtsuBinarizeIsCvThreshold) {
  // binarize finds Otsu's threshold from its own histogram; it must be cv::threshold's.
  cv::RNG rng(11);
  for (int i = 0; i < 400; ++i) {
    cv::Mat img(rng.uniform(1, 80), rng.uniform(1, 80), CV_8U);
    if (i % 4 == 0) {
      rng.fill(img, cv::RNG::UNIFORM, 0, 256);
    } else if (i % 4 == 1) {  // a narrow range
      const int a = rng.uniform(0, 250);
      rng.fill(img, cv::RNG::UNIFORM, a, a + rng.uniform(1, 6));
    } else {  // white paper with some ink, or its negative
      img.setTo(255);
      for (int k = rng.uniform(0, 60); k-- > 0;) img.at<uint8_t>(rng.uniform(0, img.rows), rng.uniform(0, img.cols)) = uint8_t(rng.uniform(0, 256));
      if (i % 4 == 3) img = 255 - img;
    }
    cv::Mat expected;
    cv::threshold(img, expected, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
    if (cv::countNonZero(expected) > int(expected.total() / 2)) cv::bitwise_not(expected, expected);
    EXPECT_EQ(cv::countNonZero(infer::binarize(img, "otsu") != expected), 0) << i;
  }
}

TEST(InferLayout, InkComponentsAreConnectedComponentsWithStats) {
  cv::RNG rng(5);
  for (int i = 0; i < 40; ++i) {
    cv::Mat page = cv::Mat::zeros(rng.uniform(10, 300), rng.uniform(10, 300), CV_8U);
    cv::Rect part(rng.uniform(0, 5), rng.uniform(0, 5), page.cols - 5, page.rows - 5);
    cv::Mat noise(part.size(), CV_8U);
    rng.fill(noise, cv::RNG::UNIFORM, 0, 100);
    page(part).setTo(255, noise < rng.uniform(5, 60));
    cv::Mat labels, stats, centroids;
    int n = cv::connectedComponentsWithStats(page, labels, stats, centroids, 8, CV_32S);
    std::vector<std::pair<cv::Rect, int>> expected;
    for (int k = 1; k < n; ++k)
      expected.push_back({cv::Rect(stats.at<int>(k, 0), stats.at<int>(k, 1), stats.at<int>(k, 2), stats.at<int>(k, 3)),
                          stats.at<int>(k, cv::CC_STAT_AREA)});
    EXPECT_EQ(infer::ink_components(page), expected) << i;
    EXPECT_EQ(infer::ink_components(page(part), part.tl()), expected) << i;  // a view, ordered as in its page
  }
}

TEST(InferLayout, ReusedBuffersGiveTheSameLayout) {
  // analyze_page keeps page-sized buffers per thread: a page analysed after another of a different size
  // (with rules: a table at the page's corner, a bar against a rule) comes out as on a fresh thread.
  PageSpec spec;
  auto a = rotate_page(make_page(spec), 0.8).image;
  spec.width = 1300, spec.height = 1500, spec.columns = 1, spec.lines_per_column = 8;
  cv::Mat b = make_page(spec).image;
  for (int r = 0; r <= 3; ++r) cv::line(b, {0, 1000 + 80 * r}, {700, 1000 + 80 * r}, cv::Scalar(0), 3);
  for (int c = 0; c <= 2; ++c) cv::line(b, {350 * c, 1000}, {350 * c, b.rows - 1}, cv::Scalar(0), 3);
  cv::rectangle(b, cv::Rect(800, 1200, 300, 40), cv::Scalar(0), cv::FILLED);
  cv::line(b, {800, 1245}, {1250, 1245}, cv::Scalar(0), 2);
  auto same = [](const infer::PageLayout& x, const infer::PageLayout& y) {
    ASSERT_EQ(x.angle, y.angle);
    ASSERT_EQ(x.text_height, y.text_height);
    ASSERT_EQ(x.lines.size(), y.lines.size());
    for (size_t i = 0; i < x.lines.size(); ++i) {
      EXPECT_EQ(x.lines[i].box, y.lines[i].box) << i;
      EXPECT_EQ(x.lines[i].paragraph, y.lines[i].paragraph) << i;
      EXPECT_EQ(std::tie(x.lines[i].table, x.lines[i].row, x.lines[i].col),
                std::tie(y.lines[i].table, y.lines[i].row, y.lines[i].col))
          << i;
    }
    ASSERT_EQ(x.tables.size(), y.tables.size());
    for (size_t i = 0; i < x.tables.size(); ++i) {
      EXPECT_EQ(x.tables[i].box, y.tables[i].box);
      EXPECT_EQ(x.tables[i].rows, y.tables[i].rows);
      EXPECT_EQ(x.tables[i].cols, y.tables[i].cols);
    }
    EXPECT_EQ(x.pictures, y.pictures);
  };
  infer::PageLayout fresh_b;
  std::thread([&] { fresh_b = infer::analyze_page(b); }).join();
  EXPECT_EQ(fresh_b.tables.size(), 1u);
  auto first_a = infer::analyze_page(a);
  same(infer::analyze_page(b), fresh_b);
  same(infer::analyze_page(a), first_a);
}

TEST(InferLayout, SliversAndTinyImagesAnalyseWithoutError) {
  // A scanner's 1-pixel strip or a stray thumbnail: no lines, no exception (cv::resize rejects the empty
  // size that shrinking such an image to the analysis scale would give).
  for (cv::Size size : {cv::Size(2000, 1), cv::Size(1, 2000), cv::Size(4000, 3), cv::Size(1, 1), cv::Size(5, 5)})
    for (int value : {0, 255}) {
      cv::Mat img(size, CV_8U, cv::Scalar(value));
      infer::PageLayout layout;
      EXPECT_NO_THROW(layout = infer::analyze_page(img)) << size << " " << value;
      EXPECT_TRUE(layout.lines.empty()) << size;
    }
}
