//===----------------------------------------------------------------------===//
//
// This source file is part of the job open source project
//
// Copyright (c) 2026 the job project authors
// Licensed under Apache License v2.0
//
// See LICENSE.txt for license information
//
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A table as the CLI prints lists of records: a header, a rule of dashes under each column's
/// name, then the rows; columns two spaces apart, padded to their widest cell, no trailing
/// spaces; nothing at all for no rows.
package enum TextTable {
    package static func render(columns: [String], rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "" }
        let widths = columns.indices.map { column in
            max(columns[column].count, rows.map { $0[column].count }.max() ?? 0)
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (index, cell) in cells.enumerated() {
                text += cell
                if index < cells.count - 1 { text += String(repeating: " ", count: widths[index] - cell.count + 2) }
            }
            while text.last == " " { text.removeLast() }
            return text + "\n"
        }
        return line(columns) + line(columns.map { String(repeating: "-", count: $0.count) }) + rows.map(line).joined()
    }
}
