/* SPDX-License-Identifier: GPL-2.0-only */
/* Writing a control file (cgroupfs, procfs) in one write(). */
#ifndef EGRESSD_FILEIO_H
#define EGRESSD_FILEIO_H

/*
 * Write text to dir/file (file alone when dir is NULL) in a single write(),
 * as control files expect.  0, or -errno (-EIO on a short write).
 */
int file_write_text(const char *dir, const char *file, const char *text);

#endif
