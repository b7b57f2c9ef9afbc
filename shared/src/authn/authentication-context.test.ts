import { describe, expect, it } from 'vitest';
import {
  ACR_MFA,
  ACR_PASSWORD,
  ACR_PHISHING_RESISTANT,
  acrForMethods,
  acrSatisfies,
  weakestKnownAcr,
} from './authentication-context.js';

describe('authentication context classes', () => {
  it('derives the class from the methods used', () => {
    expect(acrForMethods(['pwd'])).toBe(ACR_PASSWORD);
    expect(acrForMethods(['pwd', 'otp', 'mfa'])).toBe(ACR_MFA);
    expect(acrForMethods(['hwk', 'user', 'mfa'])).toBe(ACR_PHISHING_RESISTANT);
    expect(acrForMethods(['pwd', 'swk', 'mfa'])).toBe(ACR_PHISHING_RESISTANT);
  });

  it('a stronger class meets a weaker requirement, never the reverse', () => {
    expect(acrSatisfies(ACR_MFA, ACR_PASSWORD)).toBe(true);
    expect(acrSatisfies(ACR_PHISHING_RESISTANT, ACR_MFA)).toBe(true);
    expect(acrSatisfies(ACR_MFA, ACR_MFA)).toBe(true);
    expect(acrSatisfies(ACR_PASSWORD, ACR_MFA)).toBe(false);
    expect(acrSatisfies(ACR_MFA, ACR_PHISHING_RESISTANT)).toBe(false);
    expect(acrSatisfies(undefined, ACR_PASSWORD)).toBe(false);
  });

  it('unknown classes fail closed', () => {
    expect(acrSatisfies('urn:other', ACR_PASSWORD)).toBe(false);
    expect(acrSatisfies(ACR_PHISHING_RESISTANT, 'urn:tessera:acr:mfa2')).toBe(false);
  });

  it('of several requested classes, the weakest known one is enough', () => {
    expect(weakestKnownAcr([ACR_PHISHING_RESISTANT, ACR_MFA])).toBe(ACR_MFA);
    expect(weakestKnownAcr(['urn:other', ACR_PHISHING_RESISTANT])).toBe(ACR_PHISHING_RESISTANT);
    expect(weakestKnownAcr(['urn:other'])).toBeUndefined();
  });
});
