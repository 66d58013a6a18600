#include "cli/data_flags.hpp"

#include "cli/flags.hpp"
#include "sigmanet/formats/mnist.hpp"

namespace sigmanet::cli {

void add_data_flags(CLI::App* sub, DataFlags& f) {
  add_path(sub, "--data", f.data,
           "The data: a folder of IDX files named as MNIST's, a folder holding train.csv and test.csv, or a .npz "
           "file with x_train, y_train, x_test, y_test (default: $SIGMANET_DATA, else ./data/mnist)");
  add_path(sub, "--test-data", f.test_data,
           "The test set from another source: an IDX folder (its t10k files), a CSV folder (test.csv), a .csv file "
           "or a .npz file (x_test, y_test)");
  add_path(sub, "--train-images", f.train_images, "Training images as an IDX file named otherwise than MNIST's");
  add_path(sub, "--train-labels", f.train_labels, "Training labels as an IDX file (with --train-images)");
  add_path(sub, "--test-images", f.test_images, "Test images as an IDX file named otherwise than MNIST's");
  add_path(sub, "--test-labels", f.test_labels, "Test labels as an IDX file (with --test-images)");
  sub->add_flag("--emnist", f.emnist,
                "EMNIST's IDX files: images stored transposed are turned upright; the letters' labels 1..26 become "
                "0..25; classes named by emnist-SPLIT-mapping.txt beside the files");
  sub->add_option("--label-column", f.label_column,
                  "CSV: the label's column, by its header name or its number counted from 1 (default: the first)")
      ->type_name("NAME|N");
  add_choice(sub, "--header", f.header,
             {{"auto", HeaderRow::automatic}, {"yes", HeaderRow::yes}, {"no", HeaderRow::no}},
             "CSV: whether the first line names the columns (auto: when a field of it is not a number)");
  add_choice(sub, "--features", f.features,
             {{"auto", FeatureKind::automatic}, {"pixels", FeatureKind::pixels}, {"float", FeatureKind::values}},
             "CSV: pixels (bytes 0..255, read as byte / 255), float (used as given), or auto (pixels when every "
             "feature is a whole number 0..255)");
  add_whole(sub, "--classes", f.classes, "Output classes the data has (default: the largest training label + 1)",
            std::size_t{2}, std::size_t{256})
      ->default_str("labels");
}

DataSourceOptions data_source(const DataFlags& f, const SplitRequest& split) {
  DataSourceOptions o;
  o.data = resolve_data_dir(f.data);
  o.test_data = f.test_data;
  o.train_images = f.train_images, o.train_labels = f.train_labels;
  o.test_images = f.test_images, o.test_labels = f.test_labels;
  o.emnist = f.emnist;
  o.label_column = f.label_column;
  o.header = f.header;
  o.features = f.features;
  o.classes = f.classes;
  o.split = split;
  return o;
}

}  // namespace sigmanet::cli
