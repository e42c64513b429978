#!/bin/sh
echo "hi"
	indent
