#pragma once
// Reading YAML with errors that name file, line, column and key, and what was expected.
#include <yaml-cpp/yaml.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace racewin {

// One YAML node, the file it came from, and its key path for messages.
class CNode {
 public:
  CNode() = default;
  CNode(YAML::Node node, std::shared_ptr<const std::string> file, std::string key_path);

  static CNode load_file(const std::string& path);
  static CNode parse(const std::string& text, const std::string& label);

  SourceLoc loc() const;
  [[noreturn]] void fail(const std::string& msg) const;
  const std::string& file() const { return *file_; }
  const std::string& key_path() const { return path_; }
  const YAML::Node& raw() const { return node_; }

  bool is_map() const { return node_.IsMap(); }
  bool is_seq() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }
  bool has(const std::string& key) const;
  CNode at(const std::string& key) const;                  // required
  std::optional<CNode> get(const std::string& key) const;  // optional
  std::vector<CNode> items() const;                        // a sequence's elements
  std::vector<std::pair<std::string, CNode>> entries() const;  // a map's entries, in file order
  // Rejects keys outside `allowed`, suggesting the nearest one.
  void allow_keys(const std::vector<std::string>& allowed) const;

  std::string str() const;
  double number() const;
  double duration() const;              // "5ms" etc. (a unit is needed but for 0); must be >= 0
  long integer(long lo, long hi) const;
  bool boolean() const;

  // A path relative to this node's file.
  std::string resolve_path(const std::string& rel) const;

  // Sets the value at dotted `key` (map keys, or list indexes) below this node, for --set and
  // case overrides; errors about the value or the keys it adds will name `origin`.
  void set_dotted(const std::string& key, const YAML::Node& value, const SourceLoc& origin) const;

 private:
  YAML::Node node_;
  std::shared_ptr<const std::string> file_;
  std::string path_;
};

std::string nearest_word(const std::string& word, const std::vector<std::string>& choices);

}  // namespace racewin
