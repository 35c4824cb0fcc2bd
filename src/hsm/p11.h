/*
 * The part of the PKCS#11 v2.40 interface espsec uses, declared from the
 * OASIS specification (types, constants and the order of the function
 * list). The module is loaded at run time with dlopen, so espsec has no
 * link-time dependency on any PKCS#11 library.
 */
#ifndef ESPSEC_P11_H
#define ESPSEC_P11_H

typedef unsigned char CK_BYTE;
typedef unsigned char CK_BBOOL;
typedef unsigned long CK_ULONG;
typedef CK_ULONG CK_RV, CK_FLAGS, CK_SLOT_ID, CK_SESSION_HANDLE, CK_OBJECT_HANDLE, CK_OBJECT_CLASS, CK_KEY_TYPE,
    CK_ATTRIBUTE_TYPE, CK_MECHANISM_TYPE, CK_USER_TYPE, CK_RSA_PKCS_MGF_TYPE;

typedef struct {
    CK_BYTE major, minor;
} CK_VERSION;

typedef struct {
    CK_ATTRIBUTE_TYPE type;
    void *pValue;
    CK_ULONG ulValueLen;
} CK_ATTRIBUTE;

typedef struct {
    CK_MECHANISM_TYPE mechanism;
    void *pParameter;
    CK_ULONG ulParameterLen;
} CK_MECHANISM;

typedef struct {
    CK_MECHANISM_TYPE hashAlg;
    CK_RSA_PKCS_MGF_TYPE mgf;
    CK_ULONG sLen;
} CK_RSA_PKCS_PSS_PARAMS;

typedef struct {
    unsigned char label[32], manufacturerID[32], model[16], serialNumber[16];
    CK_FLAGS flags;
    CK_ULONG ulMaxSessionCount, ulSessionCount, ulMaxRwSessionCount, ulRwSessionCount, ulMaxPinLen, ulMinPinLen,
        ulTotalPublicMemory, ulFreePublicMemory, ulTotalPrivateMemory, ulFreePrivateMemory;
    CK_VERSION hardwareVersion, firmwareVersion;
    unsigned char utcTime[16];
} CK_TOKEN_INFO;

#define CKR_OK 0x0UL
#define CKR_CRYPTOKI_ALREADY_INITIALIZED 0x191UL
#define CKR_USER_ALREADY_LOGGED_IN 0x100UL
#define CKR_PIN_INCORRECT 0xA0UL
#define CKR_PIN_LEN_RANGE 0xA2UL
#define CKR_SLOT_ID_INVALID 0x3UL
#define CKR_TOKEN_NOT_PRESENT 0xE0UL
#define CKR_KEY_TYPE_INCONSISTENT 0x63UL
#define CKR_MECHANISM_INVALID 0x70UL
#define CKR_MECHANISM_PARAM_INVALID 0x71UL
#define CKR_BUFFER_TOO_SMALL 0x150UL

#define CKF_SERIAL_SESSION 0x4UL
#define CKF_RW_SESSION 0x2UL
#define CKU_USER 1UL

#define CKA_CLASS 0x0UL
#define CKA_LABEL 0x3UL
#define CKA_KEY_TYPE 0x100UL
#define CKA_MODULUS 0x120UL
#define CKA_PUBLIC_EXPONENT 0x122UL
#define CKA_EC_PARAMS 0x180UL
#define CKA_EC_POINT 0x181UL

#define CKO_PUBLIC_KEY 2UL
#define CKO_PRIVATE_KEY 3UL
#define CKK_RSA 0UL
#define CKK_EC 3UL

#define CKM_RSA_PKCS_PSS 0x0DUL
#define CKM_ECDSA 0x1041UL
#define CKM_SHA256 0x250UL
#define CKM_SHA384 0x260UL
#define CKG_MGF1_SHA256 0x2UL
#define CKG_MGF1_SHA384 0x3UL

typedef CK_RV (*CK_C_Initialize)(void *);
typedef CK_RV (*CK_C_Finalize)(void *);
typedef CK_RV (*CK_C_GetSlotList)(CK_BBOOL, CK_SLOT_ID *, CK_ULONG *);
typedef CK_RV (*CK_C_GetTokenInfo)(CK_SLOT_ID, CK_TOKEN_INFO *);
typedef CK_RV (*CK_C_OpenSession)(CK_SLOT_ID, CK_FLAGS, void *, void *, CK_SESSION_HANDLE *);
typedef CK_RV (*CK_C_CloseSession)(CK_SESSION_HANDLE);
typedef CK_RV (*CK_C_Login)(CK_SESSION_HANDLE, CK_USER_TYPE, unsigned char *, CK_ULONG);
typedef CK_RV (*CK_C_Logout)(CK_SESSION_HANDLE);
typedef CK_RV (*CK_C_GetAttributeValue)(CK_SESSION_HANDLE, CK_OBJECT_HANDLE, CK_ATTRIBUTE *, CK_ULONG);
typedef CK_RV (*CK_C_FindObjectsInit)(CK_SESSION_HANDLE, CK_ATTRIBUTE *, CK_ULONG);
typedef CK_RV (*CK_C_FindObjects)(CK_SESSION_HANDLE, CK_OBJECT_HANDLE *, CK_ULONG, CK_ULONG *);
typedef CK_RV (*CK_C_FindObjectsFinal)(CK_SESSION_HANDLE);
typedef CK_RV (*CK_C_SignInit)(CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
typedef CK_RV (*CK_C_Sign)(CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
typedef void (*CK_ANY_FN)(void);

/* The function list in the specification's order; only the entries used are typed. */
typedef struct {
    CK_VERSION version;
    CK_C_Initialize C_Initialize;
    CK_C_Finalize C_Finalize;
    CK_ANY_FN C_GetInfo;
    CK_ANY_FN C_GetFunctionList;
    CK_C_GetSlotList C_GetSlotList;
    CK_ANY_FN C_GetSlotInfo;
    CK_C_GetTokenInfo C_GetTokenInfo;
    CK_ANY_FN C_GetMechanismList;
    CK_ANY_FN C_GetMechanismInfo;
    CK_ANY_FN C_InitToken;
    CK_ANY_FN C_InitPIN;
    CK_ANY_FN C_SetPIN;
    CK_C_OpenSession C_OpenSession;
    CK_C_CloseSession C_CloseSession;
    CK_ANY_FN C_CloseAllSessions;
    CK_ANY_FN C_GetSessionInfo;
    CK_ANY_FN C_GetOperationState;
    CK_ANY_FN C_SetOperationState;
    CK_C_Login C_Login;
    CK_C_Logout C_Logout;
    CK_ANY_FN C_CreateObject;
    CK_ANY_FN C_CopyObject;
    CK_ANY_FN C_DestroyObject;
    CK_ANY_FN C_GetObjectSize;
    CK_C_GetAttributeValue C_GetAttributeValue;
    CK_ANY_FN C_SetAttributeValue;
    CK_C_FindObjectsInit C_FindObjectsInit;
    CK_C_FindObjects C_FindObjects;
    CK_C_FindObjectsFinal C_FindObjectsFinal;
    CK_ANY_FN C_EncryptInit;
    CK_ANY_FN C_Encrypt;
    CK_ANY_FN C_EncryptUpdate;
    CK_ANY_FN C_EncryptFinal;
    CK_ANY_FN C_DecryptInit;
    CK_ANY_FN C_Decrypt;
    CK_ANY_FN C_DecryptUpdate;
    CK_ANY_FN C_DecryptFinal;
    CK_ANY_FN C_DigestInit;
    CK_ANY_FN C_Digest;
    CK_ANY_FN C_DigestUpdate;
    CK_ANY_FN C_DigestKey;
    CK_ANY_FN C_DigestFinal;
    CK_C_SignInit C_SignInit;
    CK_C_Sign C_Sign;
} CK_FUNCTION_LIST;

typedef CK_RV (*CK_C_GetFunctionList)(CK_FUNCTION_LIST **);

#endif
