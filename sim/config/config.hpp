#pragma once
// Reading YAML with errors that name file, line, column and key, and what was expected.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace racewin {

// The most nodes a YAML document may expand to through its aliases: yaml-cpp shares an aliased node,
// but walking or copying the document (yaml_to_json) expands it, and a few hundred bytes of nested
// aliases ("billion laughs") would expand to billions of nodes.
inline constexpr uint64_t kMaxYamlNodes = 1'000'000;

// Refuses YAML text that racewin could not walk or write back as JSON: a byte that is not UTF-8
// (the outputs are JSON, whose writer would refuse it after the run), and aliases that expand to
// more than kMaxYamlNodes nodes. Throws ConfigError at label:line:column (a syntax error as
// "YAML syntax: ..."). CNode::parse calls it on every file.
void check_yaml(const std::string& text, const std::string& label);
// Only the first part of check_yaml: the bytes are UTF-8.
void check_utf8(const std::string& text, const std::string& label);

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
  bool is_null() const { return node_.IsNull(); }
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
  // A text check_yaml has passed, parsed.
  static CNode load_checked(const std::string& text, const std::string& label);
  YAML::Node node_;
  std::shared_ptr<const std::string> file_;
  std::string path_;
};

// set_dotted remembers, per thread, where each node of an override came from, until the innermost
// OriginScope alive at the time ends. A loader that applies overrides holds one: a process that
// loads many scenarios (a sweep checks its every point; the fuzz targets load thousands) would
// otherwise keep every override's document alive and search them all for each location.
class OriginScope {
 public:
  OriginScope();
  ~OriginScope();
  OriginScope(const OriginScope&) = delete;
  OriginScope& operator=(const OriginScope&) = delete;
  static size_t remembered();  // how many override nodes this thread remembers now

 private:
  size_t mark_;
};

// Whether `path` names a regular file; a name the system refuses (too long) names none, rather than
// throwing std::filesystem's error past the ConfigError handlers.
bool is_regular_file(const std::string& path);

std::string nearest_word(const std::string& word, const std::vector<std::string>& choices);

}  // namespace racewin
