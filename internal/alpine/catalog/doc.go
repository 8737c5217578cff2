// Package catalog holds the tests that check the Alpine specs under images/alpine against
// real Alpine data; it has no code of its own.
package catalog
