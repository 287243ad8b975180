package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

//go:generate go run . docs --dir ../docs/cli

// newDocsCommand writes the CLI's reference, one Markdown page per command, into
// --dir (docs/cli in the repository, through go generate). It is hidden: it is a
// tool of the repository, and TestDocsAreUpToDate fails when the committed pages
// differ from what it writes.
func newDocsCommand() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:    "docs --dir DIR",
		Short:  "write the CLI reference as Markdown, one page per command",
		Hidden: true,
		Args:   positional(),
		RunE: func(c *cobra.Command, _ []string) error {
			if dir == "" {
				return usageErrorf(c, "--dir is required")
			}
			return writeDocs(c.Root(), dir)
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "directory of the pages (created if missing)")
	return c
}

// preformattedLong marks a command whose long help is laid out in columns (the
// decide actions): its page shows it as a code block, not as a paragraph.
const preformattedLong = "tierflow.dev/preformatted-long"

// writeDocs replaces the pages of dir by the pages of root's commands, so that a
// removed command loses its page. It changes the long help of root's commands
// marked preformattedLong: root is built for this one run.
func writeDocs(root *cobra.Command, dir string) error {
	fenceLongHelp(root)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("docs: %w", err)
	}
	old, err := filepath.Glob(filepath.Join(dir, root.Name()+"*.md"))
	if err != nil {
		return fmt.Errorf("docs: %w", err)
	}
	for _, page := range old {
		if err := os.Remove(page); err != nil {
			return fmt.Errorf("docs: %w", err)
		}
	}
	if err := doc.GenMarkdownTree(root, dir); err != nil {
		return fmt.Errorf("docs: %w", err)
	}
	return nil
}

func fenceLongHelp(c *cobra.Command) {
	if c.Annotations[preformattedLong] != "" {
		c.Long = "```\n" + c.Long + "\n```"
	}
	for _, sub := range c.Commands() {
		fenceLongHelp(sub)
	}
}
