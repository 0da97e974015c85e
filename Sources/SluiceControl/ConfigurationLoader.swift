// Entry points from text or a file to a validated SluiceConfiguration. Loading happens off the hot
// path (start-up, `sluice check`, reload), so it favours complete, readable reports over speed:
// every problem is collected (ConfigurationReader) and reported with its key path, a YAML syntax
// error with its line and column, and an unreadable file with one line saying why.

import Foundation
import Yams

/// Loads and validates Sluice configuration files.
public enum ConfigurationLoader {
    /// Reads, parses and validates the file at `path`.
    /// - Throws: `ConfigurationError` listing every problem (or the one reason the file is unreadable).
    public static func load(path: String) throws(ConfigurationError) -> SluiceConfiguration {
        try parse(yaml: readFile(path), file: path)
    }

    /// Parses and validates configuration text.
    /// - Parameters:
    ///   - yaml: the document.
    ///   - file: the name used in problem reports.
    /// - Throws: `ConfigurationError` listing every problem.
    public static func parse(yaml: String, file: String = "<input>") throws(ConfigurationError) -> SluiceConfiguration {
        func refuse(_ message: String, line: Int? = nil, column: Int? = nil) -> ConfigurationError {
            ConfigurationError(
                file: file, problems: [ConfigurationProblem(keyPath: "", message: message, line: line, column: column)])
        }
        // Limits before the YAML library does any work (ConfigurationLimits.swift says why).
        let size = yaml.utf8.count
        guard size <= ConfigurationLimits.maximumBytes else {
            throw refuse(
                "the configuration is \(size) bytes, more than the limit of \(ConfigurationLimits.maximumBytes) bytes")
        }
        if let alias = ConfigurationLimits.firstAlias(in: yaml) {
            throw refuse(
                "\(alias.text): YAML anchors, aliases and merge keys are not accepted; write the values out",
                line: alias.line, column: alias.column)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigurationError(file: file, problems: [syntaxProblem(error)])
        } catch {
            throw ConfigurationError(
                file: file, problems: [ConfigurationProblem(keyPath: "", message: "cannot parse YAML: \(error)")]
            )
        }
        let counts = ConfigurationLimits.counts(root)
        if counts.virtualServers > ConfigurationLimits.maximumVirtualServers {
            throw refuse(
                "\(counts.virtualServers) virtual servers, more than the limit of \(ConfigurationLimits.maximumVirtualServers)"
            )
        }
        if counts.realServers > ConfigurationLimits.maximumRealServers {
            throw refuse(
                "\(counts.realServers) real servers in all, more than the limit of \(ConfigurationLimits.maximumRealServers)"
            )
        }
        if counts.largestService > ConfigurationLimits.maximumRealServersPerService {
            throw refuse(
                "a virtual server with \(counts.largestService) real servers, more than the limit of \(ConfigurationLimits.maximumRealServersPerService)"
            )
        }
        let reader = ConfigurationReader()
        guard let configuration = reader.read(root: root) else {
            throw ConfigurationError(file: file, problems: inDocumentOrder(reader.problems))
        }
        var result = configuration
        result.warnings = inDocumentOrder(reader.warnings)
        return result
    }

    /// Problems sorted by position (those without one last), keeping the reader's order on ties.
    static func inDocumentOrder(_ problems: [ConfigurationProblem]) -> [ConfigurationProblem] {
        problems.enumerated().sorted { a, b in
            let pa = (a.element.line ?? Int.max, a.element.column ?? Int.max)
            let pb = (b.element.line ?? Int.max, b.element.column ?? Int.max)
            return pa != pb ? pa < pb : a.offset < b.offset
        }.map(\.element)
    }

    /// The file's text, or a one-line reason why it cannot be read.
    static func readFile(_ path: String) throws(ConfigurationError) -> String {
        func fail(_ message: String) -> ConfigurationError {
            ConfigurationError(file: path, problems: [ConfigurationProblem(keyPath: "", message: message)])
        }
        let files = FileManager.default
        guard files.fileExists(atPath: path) else {
            throw fail("cannot read the configuration: no such file")
        }
        let type = (try? files.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
        guard type != .typeDirectory else {
            throw fail("cannot read the configuration: it is a directory")
        }
        guard files.isReadableFile(atPath: path), let data = files.contents(atPath: path)
        else {
            throw fail("cannot read the configuration: permission denied")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw fail("cannot read the configuration: it is not UTF-8 text")
        }
        return text
    }

    /// A YAML syntax error as a file-level problem with its position.
    static func syntaxProblem(_ error: YamlError) -> ConfigurationProblem {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var message = "YAML syntax error: \(problem)"
            if let context {
                message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
            }
            return ConfigurationProblem(keyPath: "", message: message, line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return ConfigurationProblem(
                keyPath: "", message: "YAML error: duplicate key \(keys) in one mapping",
                line: context.mark.line, column: context.mark.column
            )
        case .reader(let problem, _, _, _):
            return ConfigurationProblem(keyPath: "", message: "cannot read YAML: \(problem)")
        default:
            return ConfigurationProblem(keyPath: "", message: "cannot parse YAML: \(error)")
        }
    }
}
