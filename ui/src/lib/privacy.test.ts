import { describe, expect, it } from 'vitest';
import {
  DELETE_ALL_CONSEQUENCE,
  MIN_EXPORT_PASSWORD,
  MIN_PASSWORD,
  checkEmailChange,
  checkExportPassword,
  deleteAllDone,
  deleteAllQuestion,
  exportArguments,
  receiptSaved,
  checkPasswordChange,
  describeExportProgress,
  emailChangeSent,
  fileName,
  hasField,
  holdingsRows,
  looksLikeEmail,
  platformName,
  signedOutElsewhere,
  removeCopyItems,
  REMOVE_COPY_SETS_ASIDE,
  setAsideWhen,
} from './privacy';

describe('fileName', () => {
  it('takes the last part with either separator', () => {
    expect(fileName('/home/ada/Downloads/A fox-g1.mp4')).toBe('A fox-g1.mp4');
    expect(fileName('C:\\Users\\Ada\\Downloads\\fox.mp4')).toBe('fox.mp4');
    expect(fileName('/home/ada/Downloads/')).toBe('Downloads');
    expect(fileName('fox.mp4')).toBe('fox.mp4');
    expect(fileName('<img src=x>.mp4')).toBe('<img src=x>.mp4');
  });
});

describe('checkEmailChange', () => {
  it('needs a plausible new address that is not the current one, and the password', () => {
    expect(checkEmailChange('pw', '', 'ada@example.com')).toEqual({ message: 'Enter the new email address.', fields: ['email'] });
    expect(checkEmailChange('pw', 'ada', 'ada@example.com')?.fields).toEqual(['email']);
    expect(checkEmailChange('pw', ' ADA@example.com ', 'ada@example.com')?.message).toBe('That is already your email address.');
    expect(checkEmailChange('', 'new@example.com', 'ada@example.com')?.fields).toEqual(['password']);
    expect(checkEmailChange('pw', ' new@example.com ', 'ada@example.com')).toBeNull();
  });

  it('is loose about addresses', () => {
    expect(looksLikeEmail('a@b.co')).toBe(true);
    expect(looksLikeEmail('a+tag@sub.example.org')).toBe(true);
    expect(looksLikeEmail('a@b')).toBe(false);
    expect(looksLikeEmail('a b@c.d')).toBe(false);
  });

  it('says what happens next', () => {
    expect(emailChangeSent(' new@example.com ')).toBe(
      'We sent a link to new@example.com. Your email changes when you follow it; you will then sign in again.',
    );
  });
});

describe('checkPasswordChange', () => {
  it('needs the current password, a long enough new one, typed twice', () => {
    expect(checkPasswordChange('', 'secret1', 'secret1')?.fields).toEqual(['password']);
    expect(checkPasswordChange('old', 'x'.repeat(MIN_PASSWORD - 1), 'x'.repeat(MIN_PASSWORD - 1))).toEqual({
      message: 'The new password needs at least 6 characters.',
      fields: ['newPassword'],
    });
    expect(checkPasswordChange('old', 'secret1', 'secret2')?.message).toBe('The new passwords do not match.');
    expect(checkPasswordChange('secret1', 'secret1', 'secret1')?.fields).toEqual(['newPassword']);
    expect(checkPasswordChange('old', 'x'.repeat(MIN_PASSWORD), 'x'.repeat(MIN_PASSWORD))).toBeNull();
  });

  it('counts characters, not UTF-16 units', () => {
    expect(checkPasswordChange('old', '🦊🦊🦊🦊🦊', '🦊🦊🦊🦊🦊')?.fields).toEqual(['newPassword']);
  });

  it('marks fields', () => {
    expect(hasField({ fields: ['newPassword'] }, 'newPassword')).toBe(true);
    expect(hasField({ fields: ['newPassword'] }, 'password')).toBe(false);
    expect(hasField(null, 'password')).toBe(false);
  });
});

describe('describeExportProgress', () => {
  it('gives items of the step and bytes of the export', () => {
    expect(describeExportProgress({ step: 'generations', itemsDone: 1234, itemsTotal: 5000, bytesDownloaded: 0, bytesWritten: 1536 })).toEqual({
      step: 'Writing generations',
      value: 1234,
      max: 5000,
      items: '1,234 of 5,000 generations',
      bytes: '1.5 KB written',
    });
    const downloading = describeExportProgress({ step: 'downloading', itemsDone: 1, itemsTotal: 1, bytesDownloaded: 1048576, bytesWritten: 0 });
    expect(downloading.items).toBe('1 of 1 clip');
    expect(downloading.bytes).toBe('0 B written · 1.0 MB downloaded');
    expect(downloading.step).toBe('Downloading clips');
  });

  it('clamps odd numbers', () => {
    const view = describeExportProgress({ step: 'finishing', itemsDone: 9, itemsTotal: 3, bytesDownloaded: 0, bytesWritten: 0 });
    expect(view.value).toBe(3);
    expect(view.max).toBe(3);
  });
});

describe('holdingsRows', () => {
  it('lists every count with stable keys', () => {
    const rows = holdingsRows({
      generations: 1200,
      thumbnails: 1,
      thumbnailBytes: 2048,
      ledgerEntries: 3,
      purchases: 0,
      savedClips: [{ generationId: 'g1', path: '/d/a.mp4' }],
    });
    expect(rows.map((r) => r.key)).toEqual(['generations', 'thumbnails', 'ledger', 'purchases', 'saved-clips']);
    expect(rows.map((r) => r.value)).toEqual(['1,200', '1 image (2.0 KB)', '3', '0', '1']);
  });
});

describe('removeCopyItems', () => {
  it('says what goes, and the unsent changes when there are any', () => {
    expect(removeCopyItems(0)).toEqual(['the Studio draft and the clips opened from the app']);
    expect(removeCopyItems(2)[1]).toBe('2 changes made here that Cleom has not received yet (they will not be sent)');
    expect(removeCopyItems(1)[1]).toContain('1 change made');
    expect(removeCopyItems(null)[1]).toBe('any change made here that Cleom has not received yet');
  });

  it('never lists the history or its key as removed: they are set aside for 30 days', () => {
    for (const line of removeCopyItems(3)) expect(line).not.toMatch(/history|key/);
    expect(REMOVE_COPY_SETS_ASIDE).toContain('set aside for 30 days, not deleted');
    expect(REMOVE_COPY_SETS_ASIDE).toContain('the key in your system keychain');
  });
});

describe('setAsideWhen', () => {
  it('says when a copy was set aside and when it goes', () => {
    const line = setAsideWhen({
      databasePath: '/d/set-aside/u1/20261202T061500Z/history.db',
      bytes: 4096,
      setAsideAt: '2026-12-02T06:15:00Z',
      removedAfter: '2027-01-01T06:15:00Z',
    });
    expect(line).toMatch(/^Set aside .*2026.*; removed after .*2027.*\.$/);
    expect(line).not.toContain('T06:15');
  });
});

describe('checkExportPassword', () => {
  it('asks nothing when the export is not protected', () => {
    expect(checkExportPassword(false, '', '')).toBeNull();
    expect(checkExportPassword(false, 'x', 'y')).toBeNull();
  });

  it('needs at least 8 characters (counted as characters, not UTF-16 units) typed twice', () => {
    expect(MIN_EXPORT_PASSWORD).toBe(8);
    expect(checkExportPassword(true, '', '')).toEqual({ message: 'Enter a password for the export.', field: 'password' });
    expect(checkExportPassword(true, '1234567', '1234567')).toEqual({
      message: 'The export password needs at least 8 characters.',
      field: 'password',
    });
    // Seven emoji are 14 UTF-16 units but still 7 characters.
    expect(checkExportPassword(true, '🔑'.repeat(7), '🔑'.repeat(7))?.field).toBe('password');
    expect(checkExportPassword(true, '12345678', '12345679')).toEqual({
      message: 'The two export passwords do not match.',
      field: 'confirm',
    });
    expect(checkExportPassword(true, '12345678', '12345678')).toBeNull();
    expect(checkExportPassword(true, ' spaces count ', ' spaces count ')).toBeNull();
  });
});

describe('exportArguments', () => {
  it('sends only what was chosen', () => {
    expect(exportArguments(false, false, '')).toEqual({});
    expect(exportArguments(true, false, 'ignored-password')).toEqual({ includeVideos: true });
    expect(exportArguments(false, true, 'correct horse')).toEqual({ password: 'correct horse' });
    expect(exportArguments(true, true, 'correct horse')).toEqual({ includeVideos: true, password: 'correct horse' });
    expect(exportArguments(false, true, '')).toEqual({});
  });
});

describe('delete all history', () => {
  it('asks with the count when it is known, else about all generations', () => {
    expect(deleteAllQuestion(1234)).toBe('Delete all 1,234 generations?');
    expect(deleteAllQuestion(1)).toBe('Delete your 1 generation?');
    expect(deleteAllQuestion(null)).toBe('Delete all your generations?');
    expect(deleteAllQuestion(0)).toBe('Delete all your generations?');
  });

  it('says exactly what goes and what stays', () => {
    expect(DELETE_ALL_CONSEQUENCE).toBe(
      'They are removed from this device now and from Cleom when it is reachable; your account, credits and credit history stay. This cannot be undone.',
    );
  });

  it('reports how many went', () => {
    expect(deleteAllDone(1234)).toBe('1,234 generations deleted.');
    expect(deleteAllDone(1)).toBe('1 generation deleted.');
    expect(deleteAllDone(0)).toBe('No generations to delete: your history was already empty.');
  });
});

describe('receiptSaved', () => {
  it('names the file', () => {
    expect(receiptSaved('/home/ada/Downloads/cleom-deletion-receipt.txt')).toBe(
      'Receipt saved to /home/ada/Downloads/cleom-deletion-receipt.txt',
    );
  });
});

describe('signed-in devices', () => {
  it('names platforms and says what signing out everywhere else did', () => {
    expect(['linux', 'macos', 'windows', 'other', 'beos'].map(platformName)).toEqual([
      'Linux',
      'macOS',
      'Windows',
      'another system',
      'another system',
    ]);
    expect(signedOutElsewhere(0)).toBe('No other device was signed in. This one stays signed in.');
    expect(signedOutElsewhere(1)).toBe('1 other device was signed out. This one stays signed in.');
    expect(signedOutElsewhere(3)).toBe('3 other devices were signed out. This one stays signed in.');
  });
});
