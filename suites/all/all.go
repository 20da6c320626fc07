// Package all links every suite area into a binary: importing it registers their specs.
package all
