"""Education (学历核验): declared education checked with 学信 (CHSI); its answers kept
for audit and reuse."""
